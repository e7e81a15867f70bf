// Placement (pure): candidates in order go to the node their pool's
// nodeFillType prefers among those with room for their slots: `spread` the
// least loaded node, `pack` the most loaded one that still fits. A
// multi-instance task takes all its nodes at once, each a different one, or
// waits.

import type { Assignment, PoolSnapshot, SnapshotNode } from '../core/scheduling.js';
import type { Candidate } from './candidates.js';

/** Orders nodes as the pool's nodeFillType prefers them. */
function preference(fillType: PoolSnapshot['nodeFillType']) {
  return (a: SnapshotNode, b: SnapshotNode): number => {
    if (fillType === 'pack') return a.freeSlots - b.freeSlots;
    if (a.runningTasks !== b.runningTasks) return a.runningTasks - b.runningTasks;
    return b.freeSlots - a.freeSlots;
  };
}

export function placeTasks(snapshot: Pick<PoolSnapshot, 'account' | 'poolId' | 'nodeFillType'>, nodes: readonly SnapshotNode[], candidates: readonly Candidate[]): Assignment[] {
  const planned = nodes.map((node) => ({ ...node }));
  const plan: Assignment[] = [];
  for (const candidate of candidates) {
    const fitting = planned.filter((node) => node.freeSlots >= candidate.requiredSlots && (!candidate.allowedNodes || candidate.allowedNodes.includes(node.nodeId)));
    const instances = candidate.instances;
    if (fitting.length < instances) continue;
    const chosen = [...fitting].sort(preference(snapshot.nodeFillType)).slice(0, instances);
    for (const node of chosen) {
      node.freeSlots -= candidate.requiredSlots;
      node.runningTasks += 1;
    }
    const [primary] = chosen as [SnapshotNode, ...SnapshotNode[]];
    plan.push({
      account: snapshot.account,
      poolId: snapshot.poolId,
      nodeId: primary.nodeId,
      jobId: candidate.jobId,
      taskId: candidate.taskId,
      ...(instances > 1 ? { nodeIds: chosen.map((node) => node.nodeId) } : {}),
    });
  }
  return plan;
}
