// The scheduling policy as one pure function: a pool's snapshot in, a plan
// out. Preemption first (the slots it frees count at once), then which
// tasks may go where (candidates.ts), then where each goes (placement.ts).
// The applier (services/scheduling-service.ts) commits the plan.

import type { Plan, PoolSnapshot, SnapshotNode } from '../core/scheduling.js';
import { chooseCandidates } from './candidates.js';
import { placeTasks } from './placement.js';
import { choosePreemptions } from './preemption.js';

export function planPool(snapshot: PoolSnapshot): Plan {
  const preemptions = choosePreemptions(snapshot);
  const nodes: SnapshotNode[] = snapshot.nodes.map((node) => ({ ...node }));
  const byId = new Map(nodes.map((node) => [node.nodeId, node]));
  for (const victim of preemptions) {
    for (const nodeId of victim.nodeIds) {
      const node = byId.get(nodeId);
      if (!node) continue;
      node.freeSlots += victim.slotsHeld;
      node.runningTasks = Math.max(0, node.runningTasks - 1);
    }
  }
  const { candidates, preparations } = chooseCandidates(snapshot, nodes);
  return { preemptions, preparations, assignments: placeTasks(snapshot, nodes, candidates) };
}
