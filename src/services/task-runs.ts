// Helpers shared by the services that end task runs: the run reference of a
// running task, freeing its node slots, and where its files live.

import type { ResourceFile, TaskFailureInfo } from '../core/common.js';
import { beginJobTermination } from '../core/job.js';
import { occupySlots, releaseSlots } from '../core/node.js';
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

/** Takes a task's slots on the nodes it was just assigned to (one, or each of a multi-instance task's); returns the nodes as stored now. */
export function occupyRunSlots(store: Store, nodes: readonly NodeRecord[], slots: number, now: Date): NodeRecord[] {
  return nodes.map((nodeRecord) => {
    const occupied = { ...nodeRecord, node: occupySlots(nodeRecord.node, slots, now) };
    store.nodes.update(occupied);
    return occupied;
  });
}

/** Frees the slots a running task held on its node, counting the run as `outcome`. */
export function releaseRunSlots(store: Store, record: TaskRecord, outcome: 'succeeded' | 'failed' | 'abandoned', now: Date): void {
  // A multi-instance task holds slots on each of its instances' nodes.
  const placements = record.internal.instances?.map((instance) => instance.nodeInfo) ?? (record.task.nodeInfo ? [record.task.nodeInfo] : []);
  for (const nodeInfo of placements) {
    const nodeRecord = store.nodes.get(record.account, nodeInfo.poolId, nodeInfo.nodeId);
    if (!nodeRecord) continue;
    store.nodes.update({ ...nodeRecord, node: releaseSlots(nodeRecord.node, record.internal.slotsHeld ?? record.task.requiredSlots, outcome, now) });
  }
}

/** Sends a running task back to the queue: a requeue (node lost, job disabled), never a retry. */
export function requeueRun(context: ServiceContext, record: TaskRecord): void {
  const { now, eTag } = context.stamp();
  releaseRunSlots(context.store, record, 'abandoned', now);
  context.store.tasks.update({ ...record, ...requeueTask(record, now, eTag) });
}

/** Completes a running task that was ended from outside (terminate, job ended) as failed. */
export function endRun(context: ServiceContext, record: TaskRecord, failureInfo: TaskFailureInfo = TASK_ENDED): void {
  const { now, eTag } = context.stamp();
  releaseRunSlots(context.store, record, 'failed', now);
  const completed = completeTask(record, { failureInfo, endTime: formatTimestamp(now) }, now, eTag);
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
