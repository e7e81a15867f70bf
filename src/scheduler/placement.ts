// Placement: pure logic over a snapshot of one pool, returning a plan of
// task → node assignments that the applier commits. Tasks are taken in the
// snapshot's order (job priority, then submission order); a task goes to the
// node its pool's nodeFillType prefers among those with room for its slots:
// `spread` the least loaded node, `pack` the most loaded one that still fits.

import type { Assignment, PoolSnapshot } from '../services/task-service.js';

export function placeTasks(snapshot: PoolSnapshot): Assignment[] {
  const nodes = snapshot.nodes.map((node) => ({ ...node }));
  const plan: Assignment[] = [];
  for (const candidate of snapshot.candidates) {
    const fitting = nodes.filter((node) => node.freeSlots >= candidate.requiredSlots && (!candidate.allowedNodes || candidate.allowedNodes.includes(node.nodeId)));
    if (fitting.length === 0) continue;
    const chosen = fitting.reduce((best, node) => {
      if (snapshot.nodeFillType === 'pack') return node.freeSlots < best.freeSlots ? node : best;
      if (node.runningTasks !== best.runningTasks) return node.runningTasks < best.runningTasks ? node : best;
      return node.freeSlots > best.freeSlots ? node : best;
    });
    chosen.freeSlots -= candidate.requiredSlots;
    chosen.runningTasks += 1;
    plan.push({ account: snapshot.account, poolId: snapshot.poolId, nodeId: chosen.nodeId, jobId: candidate.jobId, taskId: candidate.taskId });
  }
  return plan;
}
