// Placement: pure logic over a snapshot of one pool, returning a plan of
// task → node assignments that the applier commits. Tasks are taken in the
// snapshot's order (job priority, then submission order); a task goes to the
// node its pool's nodeFillType prefers among those with room for its slots:
// `spread` the least loaded node, `pack` the most loaded one that still fits.

import type { Assignment, PoolSnapshot } from '../services/task-service.js';

type PlannedNode = PoolSnapshot['nodes'][number];

/** Orders nodes as the pool's nodeFillType prefers them. */
function preference(fillType: PoolSnapshot['nodeFillType']) {
  return (a: PlannedNode, b: PlannedNode): number => {
    if (fillType === 'pack') return a.freeSlots - b.freeSlots;
    if (a.runningTasks !== b.runningTasks) return a.runningTasks - b.runningTasks;
    return b.freeSlots - a.freeSlots;
  };
}

export function placeTasks(snapshot: PoolSnapshot): Assignment[] {
  const nodes = snapshot.nodes.map((node) => ({ ...node }));
  const plan: Assignment[] = [];
  for (const candidate of snapshot.candidates) {
    const fitting = nodes.filter((node) => node.freeSlots >= candidate.requiredSlots && (!candidate.allowedNodes || candidate.allowedNodes.includes(node.nodeId)));
    // A multi-instance task needs all its nodes at once, each a different one.
    const instances = candidate.instances ?? 1;
    if (fitting.length < instances) continue;
    const chosen = [...fitting].sort(preference(snapshot.nodeFillType)).slice(0, instances);
    for (const node of chosen) {
      node.freeSlots -= candidate.requiredSlots;
      node.runningTasks += 1;
    }
    const [primary] = chosen as [PlannedNode, ...PlannedNode[]];
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
