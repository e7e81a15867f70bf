// A node's recentTasks (ComputeNode.recentTasks): the tasks whose state last
// changed on it, newest first. Batch answers the list "only if at least one
// Task has run on this Compute Node since it was assigned to the Pool", so it
// lives as long as the node: a reboot or reimage keeps it.
//
// The store keeps the entries apart from the node's document
// (NodeRecentTaskRepository): the scheduler reads every node document of a
// pool on each pass, and did several times more work when they carried the
// list. An entry is written where a run takes or frees the node's slots and
// where a task waiting for its job's preparation task starts; writing reads
// nothing back. A retry on the same node changes no state and no slot: its
// entry stays `running` and shows the retry's executionInfo when the run ends.
//
// Batch does not document the length. Every running task stays listed (at
// most the pool's taskSlotsPerNode), and the RECENT_ENDED_TASKS most recent
// ended or requeued ones besides: enough to see what a node just did, few
// enough that ComputeNode_Get and _List stay small.

import type { TaskInformation } from './node.js';
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
