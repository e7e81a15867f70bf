// A node's recentTasks (ComputeNode.recentTasks): the tasks whose state last
// changed on it, kept in its own document, newest first. Batch answers the
// list "only if at least one Task has run on this Compute Node since it was
// assigned to the Pool", so it lives as long as the node: a reboot or reimage
// keeps it.
//
// The list changes where a run takes or frees a node's slots (the node's
// document is written there anyway), so keeping it costs no store read, and
// where a task waiting for its job's preparation task starts (its node was
// just read). A retry on the same node changes no state and no slot: its entry
// stays `running` and shows the retry's executionInfo when the run ends.
//
// Batch does not document the length. Every running task stays listed (at most
// the pool's taskSlotsPerNode), and the RECENT_ENDED_TASKS most recent ended or
// requeued ones besides: enough to see what a node just did, small enough that
// the node document rewritten on every assignment and release stays a few KB.

import type { ComputeNode, TaskInformation } from './node.js';
import type { Task } from './task.js';

export const RECENT_ENDED_TASKS = 10;

/** The entry of a task (or of one instance of a multi-instance task) on a node; its taskUrl is added on the wire. */
export function taskInformationOf(jobId: string, task: Task, subtaskId?: number): TaskInformation {
  return {
    jobId,
    taskId: task.id,
    ...(subtaskId === undefined ? {} : { subtaskId }),
    taskState: task.state,
    executionInfo: task.executionInfo,
  };
}

function sameEntry(a: TaskInformation, b: TaskInformation): boolean {
  return a.jobId?.toLowerCase() === b.jobId?.toLowerCase() && a.taskId?.toLowerCase() === b.taskId?.toLowerCase() && a.subtaskId === b.subtaskId;
}

/** Puts the entry first, replacing the task's earlier one, and drops the oldest ended entries beyond the bound. */
export function noteRecentTask(node: ComputeNode, entry: TaskInformation): ComputeNode {
  const others = (node.recentTasks ?? []).filter((existing) => !sameEntry(existing, entry));
  let ended = entry.taskState === 'running' || entry.taskState === 'preparing' ? 0 : 1;
  const kept = others.filter((existing) => {
    if (existing.taskState === 'running' || existing.taskState === 'preparing') return true;
    ended += 1;
    return ended <= RECENT_ENDED_TASKS;
  });
  return { ...node, recentTasks: [entry, ...kept] };
}

/** A deleted task leaves the list: its URL would no longer answer. */
export function forgetRecentTask(node: ComputeNode, jobId: string, taskId: string): ComputeNode {
  const recentTasks = node.recentTasks?.filter((existing) => !sameEntry(existing, { jobId, taskId, subtaskId: existing.subtaskId, taskState: '' }));
  if (!recentTasks || recentTasks.length === node.recentTasks?.length) return node;
  if (recentTasks.length === 0) {
    const { recentTasks: _gone, ...rest } = node;
    return rest;
  }
  return { ...node, recentTasks };
}
