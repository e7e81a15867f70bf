// A job's job manager task: added with the job as its first task, scheduled
// before the job's other tasks; with runExclusive (the default) it takes a
// node of its own, with killJobOnCompletion (the default) its completion
// terminates the job (JMComplete), and allowLowPriorityNode false keeps it
// on dedicated nodes.

import type { Job } from './job.js';
import type { Task, TaskSpec } from './task.js';

export interface JobManagerTask extends TaskSpec {
  killJobOnCompletion?: boolean;
  runExclusive?: boolean;
  allowLowPriorityNode?: boolean;
}

export function jobManagerOf(job: Job): JobManagerTask | undefined {
  return job.jobManagerTask as JobManagerTask | undefined;
}

export function isJobManager(job: Job, task: Task): boolean {
  const manager = jobManagerOf(job);
  return manager !== undefined && manager.id.toLowerCase() === task.id.toLowerCase();
}

/** The task spec of a job's job manager task, without the manager-only properties. */
export function jobManagerTaskSpec(manager: JobManagerTask): TaskSpec {
  const { killJobOnCompletion: _kill, runExclusive: _exclusive, allowLowPriorityNode: _lowPriority, ...spec } = manager;
  return spec;
}

/** Slots the job manager holds on its node: all of them when it runs exclusively. */
export function jobManagerSlots(manager: JobManagerTask, task: Task, taskSlotsPerNode: number): number {
  return (manager.runExclusive ?? true) ? taskSlotsPerNode : task.requiredSlots;
}
