// Helpers shared by the services that end task runs: the run reference of a
// running task, freeing its node slots, and where its files live.

import { releaseSlots } from '../core/node.js';
import type { NodePlacement, Store, TaskRecord, TaskRunRef } from '../core/ports.js';

export interface TaskFiles {
  placement: NodePlacement;
  path: string;
}

export function runRefOf(record: TaskRecord): TaskRunRef {
  const nodeInfo = record.task.nodeInfo;
  return {
    account: record.account,
    poolId: nodeInfo?.poolId ?? '',
    nodeId: nodeInfo?.nodeId ?? '',
    jobId: record.jobId,
    taskId: record.task.id,
    attempt: record.attempt,
  };
}

export function taskFilesOf(record: TaskRecord): TaskFiles | undefined {
  const nodeInfo = record.task.nodeInfo;
  if (!nodeInfo) return undefined;
  return {
    placement: { account: record.account, poolId: nodeInfo.poolId, nodeId: nodeInfo.nodeId },
    path: nodeInfo.taskRootDirectory,
  };
}

/** Frees the slots a running task held on its node, counting the run as `outcome`. */
export function releaseRunSlots(store: Store, record: TaskRecord, outcome: 'succeeded' | 'failed' | 'abandoned', now: Date): void {
  const nodeInfo = record.task.nodeInfo;
  if (!nodeInfo) return;
  const nodeRecord = store.nodes.get(record.account, nodeInfo.poolId, nodeInfo.nodeId);
  if (!nodeRecord) return;
  store.nodes.update({ ...nodeRecord, node: releaseSlots(nodeRecord.node, record.task.requiredSlots, outcome, now) });
}
