// A Batch job: wire shape and lifecycle.
//
//   active ──terminate / all tasks complete──▶ terminating ──(tasks ended)──▶ completed
//     │
//     └──────────────delete (from any state)──────────────▶ deleting ──▶ (removed)

import type { EnvironmentSetting, NameValuePair, Versioned } from './common.js';
import { batchErrors } from './errors.js';
import { creationStamps, transitionState } from './lifecycle.js';
import { formatTimestamp, UNLIMITED_DURATION } from './time.js';

export type JobState = 'active' | 'disabling' | 'disabled' | 'enabling' | 'terminating' | 'completed' | 'deleting';
export type OnAllTasksComplete = 'noaction' | 'terminatejob';
export type OnTaskFailure = 'noaction' | 'performexitoptionsjobaction';

export interface JobConstraints {
  maxWallClockTime: string;
  maxTaskRetryCount: number;
}

export interface JobSpec {
  id: string;
  displayName?: string;
  priority?: number;
  maxParallelTasks?: number;
  allowTaskPreemption?: boolean;
  constraints?: Partial<JobConstraints>;
  poolInfo: { poolId?: string; autoPoolSpecification?: Record<string, unknown> };
  onAllTasksComplete?: OnAllTasksComplete;
  onTaskFailure?: OnTaskFailure;
  usesTaskDependencies?: boolean;
  commonEnvironmentSettings?: EnvironmentSetting[];
  metadata?: NameValuePair[];
  [extra: string]: unknown;
}

export interface JobExecutionInformation {
  startTime: string;
  endTime?: string;
  poolId?: string;
  terminateReason?: string;
}

export interface Job extends Versioned {
  id: string;
  displayName?: string;
  usesTaskDependencies: boolean;
  creationTime: string;
  state: JobState;
  stateTransitionTime: string;
  previousState?: JobState;
  previousStateTransitionTime?: string;
  priority: number;
  maxParallelTasks: number;
  allowTaskPreemption: boolean;
  constraints: JobConstraints;
  poolInfo: { poolId?: string; autoPoolSpecification?: Record<string, unknown> };
  onAllTasksComplete: OnAllTasksComplete;
  onTaskFailure: OnTaskFailure;
  commonEnvironmentSettings?: EnvironmentSetting[];
  metadata?: NameValuePair[];
  executionInfo: JobExecutionInformation;
  [extra: string]: unknown;
}

export function createJob(spec: JobSpec, now: Date, eTag: string): Job {
  if (!spec.poolInfo.poolId) {
    throw spec.poolInfo.autoPoolSpecification
      ? batchErrors.invalidPropertyValue('poolInfo.autoPoolSpecification', 'Auto pools are not supported yet by Lapis; create a pool and set poolInfo.poolId.')
      : batchErrors.missingRequiredProperty('poolInfo.poolId');
  }
  if (spec.priority !== undefined && (spec.priority < -1000 || spec.priority > 1000)) {
    throw batchErrors.invalidPropertyValue('priority', 'The priority must be between -1000 and 1000.');
  }
  if (spec.maxParallelTasks !== undefined && spec.maxParallelTasks !== -1 && spec.maxParallelTasks < 1) {
    throw batchErrors.invalidPropertyValue('maxParallelTasks', 'maxParallelTasks must be -1 or greater than 0.');
  }
  const stamps = creationStamps(now, eTag);
  return {
    ...spec,
    ...stamps,
    id: spec.id,
    usesTaskDependencies: spec.usesTaskDependencies ?? false,
    priority: spec.priority ?? 0,
    maxParallelTasks: spec.maxParallelTasks ?? -1,
    allowTaskPreemption: spec.allowTaskPreemption ?? false,
    constraints: {
      maxWallClockTime: spec.constraints?.maxWallClockTime ?? UNLIMITED_DURATION,
      maxTaskRetryCount: spec.constraints?.maxTaskRetryCount ?? 0,
    },
    poolInfo: spec.poolInfo,
    onAllTasksComplete: spec.onAllTasksComplete ?? 'noaction',
    onTaskFailure: spec.onTaskFailure ?? 'noaction',
    executionInfo: { startTime: stamps.creationTime, poolId: spec.poolInfo.poolId },
  };
}

function transition(job: Job, state: JobState, now: Date, eTag: string): Job {
  return transitionState<JobState, Job>(job, state, now, eTag);
}

/** Tasks may be added only while the job is active or disabled (Batch refuses the rest). */
export function assertAcceptsTasks(job: Job): void {
  if (job.state === 'completed') throw batchErrors.jobCompleted();
  if (job.state === 'terminating') throw batchErrors.jobBeingTerminated();
  if (job.state === 'deleting') throw batchErrors.jobBeingDeleted();
}

export function beginJobTermination(job: Job, reason: string, now: Date, eTag: string): Job {
  if (job.state === 'completed') throw batchErrors.jobCompleted();
  if (job.state === 'terminating') throw batchErrors.jobBeingTerminated();
  if (job.state === 'deleting') throw batchErrors.jobBeingDeleted();
  const next = transition(job, 'terminating', now, eTag);
  return { ...next, executionInfo: { ...job.executionInfo, terminateReason: reason } };
}

export function completeJob(job: Job, now: Date, eTag: string): Job {
  const next = transition(job, 'completed', now, eTag);
  return { ...next, executionInfo: { ...job.executionInfo, endTime: formatTimestamp(now) } };
}

export function markJobDeleting(job: Job, now: Date, eTag: string): Job {
  if (job.state === 'deleting') throw batchErrors.jobBeingDeleted();
  return transition(job, 'deleting', now, eTag);
}

export function jobRunsTasks(job: Job): boolean {
  return job.state === 'active';
}
