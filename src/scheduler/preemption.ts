// Preemption (allowTaskPreemption), pure: when a pool has no room for the
// runnable tasks of a job, running tasks of lower-priority jobs that allow
// preemption are requeued to make room, lowest priority first. A job only
// ever displaces jobs of strictly lower priority.

import type { PoolSnapshot, SnapshotRunningTask } from '../core/scheduling.js';

export function choosePreemptions(snapshot: PoolSnapshot): SnapshotRunningTask[] {
  const preemption = snapshot.preemption;
  if (!preemption || !snapshot.jobs.some((job) => job.allowTaskPreemption)) return [];
  const jobs = new Map(snapshot.jobs.map((job) => [job.id.toLowerCase(), job]));
  const priorityOf = (jobId: string): number => jobs.get(jobId.toLowerCase())?.priority ?? 0;
  const victims = preemption.running
    .filter((task) => jobs.get(task.jobId.toLowerCase())?.allowTaskPreemption)
    .sort((a, b) => priorityOf(a.jobId) - priorityOf(b.jobId));
  const chosen: SnapshotRunningTask[] = [];
  let room = snapshot.nodes.reduce((sum, node) => sum + node.freeSlots, 0);
  for (const job of snapshot.jobs) {
    let needed = (preemption.waitingSlots[job.id.toLowerCase()] ?? 0) - room;
    while (needed > 0) {
      const victim = victims[0];
      if (!victim || priorityOf(victim.jobId) >= job.priority) return chosen;
      victims.shift();
      chosen.push(victim);
      needed -= victim.slotsHeld;
    }
    room = Math.max(0, -needed);
  }
  return chosen;
}
