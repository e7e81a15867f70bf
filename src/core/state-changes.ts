// Which write of a pool, node, job or task is a state change, and the event
// that tells it. Each resource has a signature: the fields whose change is an
// event (a task's state and retry and requeue counts, a pool's states and
// targets…). The observer remembers the last signature it saw per resource
// and compares: a string comparison per write, no read.

import type { LapisEvent, StateChange } from './events.js';
import type { Job } from './job.js';
import type { ComputeNode } from './node.js';
import type { Pool } from './pool.js';
import type { Task } from './task.js';

type Detail = NonNullable<LapisEvent['detail']>;

export function taskSignature(task: Task): string {
  return `${task.state}/${task.executionInfo.retryCount}/${task.executionInfo.requeueCount}`;
}

export function nodeSignature(node: ComputeNode): string {
  return node.state;
}

export function poolSignature(pool: Pool): string {
  return `${pool.state}/${pool.allocationState}/${pool.targetDedicatedNodes}/${pool.targetLowPriorityNodes}/${pool.autoScaleRun?.timestamp ?? ''}`;
}

/** A pool's autoscale evaluation when this write brings a new one: Batch keeps only the last, the events keep each. */
function newEvaluation(before: string | undefined, pool: Pool): Record<string, string | undefined> | undefined {
  const run = pool.autoScaleRun;
  if (!run || before?.split('/')[4] === run.timestamp) return undefined;
  return { autoScaleEvaluation: run.timestamp, autoScaleResults: run.results, autoScaleError: run.error ? `${run.error.code}: ${run.error.message}` : undefined };
}

export function jobSignature(job: Job): string {
  return job.state;
}

/**
 * The event of a task write, given the signature last seen (undefined: not
 * remembered: added and never changed since, completed, or changed before a
 * restart). A task not remembered is taken as changed only when the write is
 * a transition's own (its state and its document stamped at the same
 * instant, from a previous state), so a later write of an unchanged task
 * (retention cleanup, Task_Update) tells nothing.
 */
export function taskChange(account: string, jobId: string, before: string | undefined, task: Task): StateChange | undefined {
  const info = task.executionInfo;
  if (before === undefined) {
    if (task.state === 'completed' || task.previousState === undefined || task.stateTransitionTime !== task.lastModified) return undefined;
    if (task.state === 'active' && info.lastRequeueTime === task.stateTransitionTime) {
      return taskEvent(account, jobId, task, 'requeued', info.lastRequeueTime, task.previousState, { requeueCount: info.requeueCount });
    }
    return taskEvent(account, jobId, task, 'state', task.stateTransitionTime, task.previousState, taskDetail(task));
  }
  // The signature is `state/retryCount/requeueCount`.
  const first = before.indexOf('/');
  const second = before.indexOf('/', first + 1);
  const state = before.slice(0, first);
  if (Number(before.slice(second + 1)) < info.requeueCount) {
    return taskEvent(account, jobId, task, 'requeued', info.lastRequeueTime ?? task.stateTransitionTime, state, { requeueCount: info.requeueCount });
  }
  if (state !== task.state) return taskEvent(account, jobId, task, 'state', task.stateTransitionTime, state, taskDetail(task));
  if (Number(before.slice(first + 1, second)) < info.retryCount) {
    return taskEvent(account, jobId, task, 'retried', info.lastRetryTime ?? task.lastModified, state, taskDetail(task));
  }
  return undefined;
}

function taskEvent(account: string, jobId: string, task: Task, change: StateChange['change'], time: string, previousState: string | undefined, detail: Detail | undefined): StateChange {
  return { account, resource: 'task', change, time, jobId, taskId: task.id, state: task.state, previousState, detail };
}

/**
 * What a task's new state says: where it runs, how it ended, and how long its
 * previous state lasted when that is the queue (`queuedMs`: active until a
 * node took it) or its runs (`runMs`: running, retries included, until it completed).
 */
function taskDetail(task: Task): Detail | undefined {
  const info = task.executionInfo;
  const previousMs = task.previousStateTransitionTime ? Date.parse(task.stateTransitionTime) - Date.parse(task.previousStateTransitionTime) : undefined;
  if (task.state === 'completed') {
    const runMs = task.previousState === 'running' ? previousMs : undefined;
    return { result: info.result, exitCode: info.exitCode, failureCode: info.failureInfo?.code, retryCount: info.retryCount, runMs };
  }
  if (task.state === 'running' || task.state === 'preparing') {
    const queuedMs = task.previousState === 'active' ? previousMs : undefined;
    return { poolId: task.nodeInfo?.poolId, nodeId: task.nodeInfo?.nodeId, retryCount: info.retryCount, queuedMs };
  }
  return undefined;
}

export function taskAdded(account: string, jobId: string, task: Task): StateChange {
  return { account, resource: 'task', change: 'added', time: task.creationTime, jobId, taskId: task.id, state: task.state };
}

export function nodeChange(account: string, poolId: string, before: string | undefined, node: ComputeNode): StateChange | undefined {
  if (before === node.state) return undefined;
  const started = node.startTaskInfo;
  const detail: Detail | undefined =
    node.state === 'starttaskfailed' && started
      ? { exitCode: started.exitCode, failureCode: started.failureInfo?.code, retryCount: started.retryCount }
      : undefined;
  return {
    account,
    resource: 'node',
    change: before === undefined ? 'added' : 'state',
    time: node.stateTransitionTime,
    poolId,
    nodeId: node.id,
    state: node.state,
    previousState: before,
    detail: { dedicated: node.isDedicated, ...detail },
  };
}

export function poolChange(account: string, before: string | undefined, pool: Pool): StateChange | undefined {
  const signature = poolSignature(pool);
  if (before === signature) return undefined;
  const resizeError = pool.resizeErrors?.[0];
  const evaluation = newEvaluation(before, pool);
  const stateChanged = before === undefined || before.split('/').slice(0, 4).join('/') !== signature.split('/').slice(0, 4).join('/');
  const stateTime = pool.allocationStateTransitionTime > pool.stateTransitionTime ? pool.allocationStateTransitionTime : pool.stateTransitionTime;
  return {
    account,
    resource: 'pool',
    change: before === undefined ? 'added' : stateChanged ? 'state' : 'evaluated',
    time: stateChanged || !pool.autoScaleRun ? stateTime : pool.autoScaleRun.timestamp,
    poolId: pool.id,
    state: pool.state,
    previousState: before?.split('/')[0],
    detail: {
      allocationState: pool.allocationState,
      previousAllocationState: before?.split('/')[1],
      targetDedicatedNodes: pool.targetDedicatedNodes,
      targetLowPriorityNodes: pool.targetLowPriorityNodes,
      currentDedicatedNodes: pool.currentDedicatedNodes,
      currentLowPriorityNodes: pool.currentLowPriorityNodes,
      resizeError: resizeError?.code,
      ...evaluation,
    },
  };
}

export function jobChange(account: string, before: string | undefined, job: Job): StateChange | undefined {
  if (before === job.state) return undefined;
  return {
    account,
    resource: 'job',
    change: before === undefined ? 'added' : 'state',
    time: job.stateTransitionTime,
    jobId: job.id,
    state: job.state,
    previousState: before,
    detail: job.executionInfo.terminateReason ? { terminateReason: job.executionInfo.terminateReason } : undefined,
  };
}

/** A resource is gone; `time` is now. */
export function deleted(account: string, resource: LapisEvent['resource'], ids: Pick<LapisEvent, 'poolId' | 'nodeId' | 'jobId' | 'taskId'>, time: string): StateChange {
  return { account, resource, change: 'deleted', time, ...ids };
}
