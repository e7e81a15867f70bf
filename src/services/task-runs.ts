// Helpers shared by the services that end task runs: the run reference of a
// running task, freeing its node slots, and where its files live.

import type { ResourceFile, TaskFailureInfo } from '../core/common.js';
import { beginJobTermination } from '../core/job.js';
import { occupySlots, releaseSlots, type TaskInformation } from '../core/node.js';
import { RECENT_ENDED_TASKS, taskInformationOf } from '../core/node-recent-tasks.js';
import type { NodePlacement, NodeRecord, ResolvedResourceFile, Store, TaskRecord, TaskRunRef } from '../core/ports.js';
import { completeTask, requeueTask, TASK_ENDED, type Task } from '../core/task.js';
import { formatTimestamp } from '../core/time.js';
import type { ServiceContext } from './context.js';

export interface TaskFiles {
  placement: NodePlacement;
  path: string;
}

export function runRefOf(record: TaskRecord): TaskRunRef {
  const nodeInfo = record.task.nodeInfo;
  return {
    kind: 'task',
    account: record.account,
    poolId: nodeInfo?.poolId ?? '',
    nodeId: nodeInfo?.nodeId ?? '',
    jobId: record.jobId,
    taskId: record.task.id,
    attempt: record.attempt,
  };
}

/**
 * The runs to stop when a task's run ends from outside: one per node it
 * occupies, so every instance of a multi-instance task stops with it.
 */
export function runRefsOf(record: TaskRecord): TaskRunRef[] {
  const primary = runRefOf(record);
  if (!record.internal.instances) return [primary];
  return record.internal.instances.map((instance) => ({ ...primary, poolId: instance.nodeInfo.poolId, nodeId: instance.nodeInfo.nodeId }));
}

/**
 * The tasks running on a node: those whose (primary) node it is, and
 * multi-instance tasks with a subtask there, found among the pool's other nodes.
 */
export function runningTasksOnNode(store: Store, account: string, poolId: string, nodeId: string): TaskRecord[] {
  const own = store.tasks.listRunningOnNode(account, nodeId);
  const subtasks = store.nodes
    .listByPool(account, poolId)
    .filter(({ node }) => node.id !== nodeId)
    .flatMap(({ node }) => store.tasks.listRunningOnNode(account, node.id))
    .filter((record) => record.internal.instances?.some((instance) => instance.nodeInfo.nodeId === nodeId));
  return [...own, ...subtasks];
}

export function taskFilesOf(record: TaskRecord): TaskFiles | undefined {
  const nodeInfo = record.task.nodeInfo;
  if (!nodeInfo) return undefined;
  return {
    placement: { account: record.account, poolId: nodeInfo.poolId, nodeId: nodeInfo.nodeId },
    path: nodeInfo.taskRootDirectory,
  };
}

// A node's slot counts (runningTasksCount, runningTaskSlotsCount) change only
// here, with the task row that holds them, in one transaction:
// occupyRunSlots when a task is assigned, releaseRunSlots when its run ends,
// is requeued or abandoned. (A node's own restart resets them in core/node.ts.)

/**
 * Takes a just assigned task's slots on its nodes (one, or each of a
 * multi-instance task's, in instance order) and lists it in their
 * recentTasks; returns the nodes as stored now.
 */
export function occupyRunSlots(store: Store, record: TaskRecord, nodes: readonly NodeRecord[], now: Date): NodeRecord[] {
  const slots = record.internal.slotsHeld ?? record.task.requiredSlots;
  const multiInstance = record.internal.instances !== undefined;
  return nodes.map((nodeRecord, instance) => {
    const occupied = { ...nodeRecord, node: occupySlots(nodeRecord.node, slots, now) };
    store.nodes.update(occupied);
    noteOnNode(store, record.account, nodeRecord.node.id, taskInformationOf(record.jobId, record.task, multiInstance ? instance : undefined));
    return occupied;
  });
}

/**
 * Frees the slots a running task held on its nodes. `after` is the task as
 * its run left it: completed (the run counts as succeeded or failed), back in
 * the queue (abandoned), or undefined when it was deleted; the nodes'
 * recentTasks show it so.
 */
export function releaseRunSlots(store: Store, record: TaskRecord, after: Task | undefined, now: Date): void {
  const outcome = after?.state !== 'completed' ? 'abandoned' : after.executionInfo.result === 'success' ? 'succeeded' : 'failed';
  // A multi-instance task holds slots on each of its instances' nodes.
  const instances = record.internal.instances;
  const placements = instances?.map((instance) => instance.nodeInfo) ?? (record.task.nodeInfo ? [record.task.nodeInfo] : []);
  placements.forEach((nodeInfo, instance) => {
    const nodeRecord = store.nodes.get(record.account, nodeInfo.poolId, nodeInfo.nodeId);
    if (!nodeRecord) return;
    store.nodes.update({ ...nodeRecord, node: releaseSlots(nodeRecord.node, record.internal.slotsHeld ?? record.task.requiredSlots, outcome, now) });
    if (after) noteOnNode(store, record.account, nodeInfo.nodeId, taskInformationOf(record.jobId, after, instances ? instance : undefined));
    else store.nodeRecentTasks.forget(record.account, nodeInfo.nodeId, record.jobId, record.task.id);
  });
}

/** A run changed state on its node without taking or freeing slots (it started after its job's preparation task): its recentTasks entry follows. */
export function noteRunOnNode(store: Store, nodeId: string, record: TaskRecord): void {
  noteOnNode(store, record.account, nodeId, taskInformationOf(record.jobId, record.task));
}

function noteOnNode(store: Store, account: string, nodeId: string, entry: TaskInformation): void {
  store.nodeRecentTasks.note(account, nodeId, entry, RECENT_ENDED_TASKS);
}

/** Sends a running task back to the queue: a requeue (node lost, job disabled), never a retry. */
export function requeueRun(context: ServiceContext, record: TaskRecord): void {
  const { now, eTag } = context.stamp();
  const requeued = requeueTask(record, now, eTag);
  releaseRunSlots(context.store, record, requeued.task, now);
  context.store.tasks.update({ ...record, ...requeued });
}

/** Completes a running task that was ended from outside (terminate, job ended) as failed. */
export function endRun(context: ServiceContext, record: TaskRecord, failureInfo: TaskFailureInfo = TASK_ENDED): void {
  const { now, eTag } = context.stamp();
  const completed = completeTask(record, { failureInfo, endTime: formatTimestamp(now) }, now, eTag);
  releaseRunSlots(context.store, record, completed.task, now);
  context.store.tasks.update({ ...record, ...completed });
  recordTaskUsage(context, record.account, completed.task);
}

/** Adds a completed task to its account's lifetime job statistics. */
export function recordTaskUsage(context: ServiceContext, account: string, task: Task): void {
  const { startTime, endTime, retryCount } = task.executionInfo;
  const started = startTime ? Date.parse(startTime) : undefined;
  const ended = endTime ? Date.parse(endTime) : undefined;
  context.store.usage.taskCompleted(
    account,
    {
      succeeded: task.executionInfo.result === 'success',
      retries: retryCount,
      wallMs: started !== undefined && ended !== undefined ? ended - started : 0,
      waitMs: started !== undefined ? started - Date.parse(task.creationTime) : 0,
    },
    context.now().getTime(),
  );
}

/** A resource file with its source resolved to a URL the node can download (auto-storage gets a SAS). */
export function resolveResourceFile(context: ServiceContext, account: string, file: ResourceFile): ResolvedResourceFile {
  const resolved: ResolvedResourceFile = { filePath: file.filePath, fileMode: file.fileMode, blobPrefix: file.blobPrefix };
  if (file.httpUrl) resolved.httpUrl = context.nodeBlobUrl(file.httpUrl);
  else if (file.storageContainerUrl) resolved.containerUrl = context.nodeBlobUrl(file.storageContainerUrl);
  else if (file.autoStorageContainerName) {
    resolved.containerUrl = context.deps.autoStorage.containerSasUrl(account, file.autoStorageContainerName);
  }
  return resolved;
}

/** With onAllTasksComplete terminatejob, a job whose tasks have all completed terminates (AllTasksComplete). */
export function completeJobIfDone(context: ServiceContext, account: string, jobId: string): void {
  const { store } = context;
  const jobRecord = store.jobs.get(account, jobId);
  if (!jobRecord || jobRecord.job.state !== 'active' || jobRecord.job.onAllTasksComplete !== 'terminatejob') return;
  const counts = store.tasks.counts(account, jobId).tasks;
  if (counts.active > 0 || counts.running > 0) return;
  const { now, eTag } = context.stamp();
  store.jobs.update({ ...jobRecord, job: beginJobTermination(jobRecord.job, 'AllTasksComplete', now, eTag) });
}
