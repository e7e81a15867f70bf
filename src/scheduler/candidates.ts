// Which runnable tasks may be placed, and where (pure): priority groups in
// order while the pool has room, each job within its maxParallelTasks; a
// job's preparation task gates its tasks (waitForSuccess: a task may wait on
// a node whose preparation is still running, a multi-instance task only goes
// to prepared nodes; where it never ran, the plan starts it); a job manager
// that may not run on low-priority nodes goes to dedicated ones.

import type { NodePreparation } from '../core/job-preparation.js';
import type { PoolSnapshot, SnapshotNode, SnapshotTask } from '../core/scheduling.js';

export interface Candidate {
  jobId: string;
  taskId: string;
  requiredSlots: number;
  /** Undefined: any node. */
  allowedNodes?: string[];
  instances: number;
}

export function chooseCandidates(snapshot: PoolSnapshot, nodes: SnapshotNode[]): { candidates: Candidate[]; preparations: { jobId: string; nodeId: string }[] } {
  const candidates: Candidate[] = [];
  const preparations: { jobId: string; nodeId: string }[] = [];
  const capacity = nodes.reduce((sum, node) => sum + node.freeSlots, 0);
  if (capacity === 0) return { candidates, preparations };
  const jobs = new Map(snapshot.jobs.map((job) => [job.id.toLowerCase(), job]));
  const parallelRoom = new Map(snapshot.jobs.map((job) => [job.id.toLowerCase(), job.parallelRoom]));
  const openNodes = nodes.filter((node) => node.freeSlots > 0);
  const prepared = new Map<string, { ready: string[]; preparing: string[] } | undefined>();

  const preparedNodes = (jobId: string): { ready: string[]; preparing: string[] } | undefined => {
    const key = jobId.toLowerCase();
    if (prepared.has(key)) return prepared.get(key);
    const preparation = jobs.get(key)?.preparation;
    let result: { ready: string[]; preparing: string[] } | undefined;
    if (preparation) {
      result = { ready: [], preparing: [] };
      for (const node of openNodes) {
        let state: NodePreparation | 'unstarted' = preparation.nodes[node.nodeId] ?? 'unstarted';
        if (state === 'unstarted') {
          preparations.push({ jobId: jobs.get(key)?.id ?? jobId, nodeId: node.nodeId });
          state = preparation.gatesTasks ? 'preparing' : 'ready';
        }
        if (state === 'ready') result.ready.push(node.nodeId);
        else if (state === 'preparing') result.preparing.push(node.nodeId);
      }
    }
    prepared.set(key, result);
    return result;
  };

  for (const group of snapshot.runnable) {
    const room = capacity - candidates.length;
    if (room <= 0) break;
    for (const task of group.slice(0, room)) {
      const key = task.jobId.toLowerCase();
      const left = parallelRoom.get(key) ?? 0;
      if (left <= 0) continue;
      const ready = preparedNodes(task.jobId);
      let allowed = ready && (task.instances > 1 ? ready.ready : [...ready.ready, ...ready.preparing]);
      if (task.dedicatedOnly) {
        const dedicated = nodes.filter((node) => node.dedicated).map((node) => node.nodeId);
        allowed = (allowed ?? dedicated).filter((nodeId) => dedicated.includes(nodeId));
      }
      if (allowed && allowed.length === 0) continue;
      parallelRoom.set(key, left - 1);
      candidates.push(candidateOf(task, allowed));
    }
  }
  return { candidates, preparations };
}

function candidateOf(task: SnapshotTask, allowedNodes: string[] | undefined): Candidate {
  return { jobId: task.jobId, taskId: task.taskId, requiredSlots: task.requiredSlots, instances: task.instances, ...(allowedNodes ? { allowedNodes } : {}) };
}
