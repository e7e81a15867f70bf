// A Batch job: wire shape and lifecycle.
//
//   active ──terminate / all tasks complete──▶ terminating ──(tasks ended)──▶ completed
//     │
//     └──────────────delete (from any state)──────────────▶ deleting ──▶ (removed)

import type { AutoPoolSpecification, PoolInformation } from './auto-pool.js';
import type { EnvironmentSetting, NameValuePair, Versioned } from './common.js';
import { batchErrors } from './errors.js';
import { checkTaskContainerSettings, type TaskContainerSettings } from './container-settings.js';
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
  poolInfo: PoolInformation;
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
  poolInfo: PoolInformation;
  onAllTasksComplete: OnAllTasksComplete;
  onTaskFailure: OnTaskFailure;
  commonEnvironmentSettings?: EnvironmentSetting[];
  metadata?: NameValuePair[];
  executionInfo: JobExecutionInformation;
  [extra: string]: unknown;
}

/** Lapis's own about a job, kept beside its wire document (never answered). */
export interface JobInternal {
  /** What a disable in progress does with running tasks. */
  disableTasks?: DisableJobOption;
}

/** A job and its internal part, as the disable transitions take and return them. */
export interface JobWithInternal {
  job: Job;
  internal: JobInternal;
}

/** A job change's poolInfo: a change of an auto pool names keepAlive and need not repeat the pool. */
export interface PoolInformationChange {
  poolId?: string;
  autoPoolSpecification?: Pick<AutoPoolSpecification, 'autoPoolIdPrefix' | 'poolLifetimeOption' | 'keepAlive'> & { pool?: AutoPoolSpecification['pool']; [extra: string]: unknown };
}

/** Batch takes one of the two: an existing pool or an auto pool. */
export function checkPoolInformation(poolInfo: PoolInformationChange, property: string): void {
  if (poolInfo.poolId && poolInfo.autoPoolSpecification) {
    throw batchErrors.invalidPropertyValue(property, 'Specify either poolId or autoPoolSpecification, not both.');
  }
  if (!poolInfo.poolId && !poolInfo.autoPoolSpecification) throw batchErrors.missingRequiredProperty(`${property}.poolId`);
}

/** `autoPoolId`: the pool created for the job from its autoPoolSpecification, which its tasks run on. */
export function createJob(spec: JobSpec, now: Date, eTag: string, autoPoolId?: string): Job {
  checkPoolInformation(spec.poolInfo, 'poolInfo');
  if (spec.priority !== undefined && (spec.priority < -1000 || spec.priority > 1000)) {
    throw batchErrors.invalidPropertyValue('priority', 'The priority must be between -1000 and 1000.');
  }
  if (spec.maxParallelTasks !== undefined && spec.maxParallelTasks !== -1 && spec.maxParallelTasks < 1) {
    throw batchErrors.invalidPropertyValue('maxParallelTasks', 'maxParallelTasks must be -1 or greater than 0.');
  }
  for (const property of ['jobManagerTask', 'jobPreparationTask', 'jobReleaseTask'] as const) {
    const settings = (spec[property] as { containerSettings?: TaskContainerSettings } | undefined)?.containerSettings;
    if (settings) checkTaskContainerSettings(settings, `${property}.containerSettings`);
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
    executionInfo: { startTime: stamps.creationTime, poolId: autoPoolId ?? spec.poolInfo.poolId },
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

export type DisableJobOption = 'requeue' | 'terminate' | 'wait';

/** What patch (merge) and update (replace) may change on a job. */
export interface JobChanges {
  priority?: number;
  maxParallelTasks?: number;
  allowTaskPreemption?: boolean;
  constraints?: Partial<JobConstraints>;
  poolInfo?: PoolInformationChange;
  metadata?: NameValuePair[];
  onAllTasksComplete?: OnAllTasksComplete;
}

/** Jobs that are ending or gone take no more changes. */
function assertChangeable(job: Job): void {
  if (job.state === 'completed') throw batchErrors.jobCompleted();
  if (job.state === 'terminating') throw batchErrors.jobBeingTerminated();
  if (job.state === 'deleting') throw batchErrors.jobBeingDeleted();
}

function applyJobChanges(job: Job, changes: JobChanges, now: Date, eTag: string): Job {
  assertChangeable(job);
  if (changes.onAllTasksComplete === 'noaction' && job.onAllTasksComplete === 'terminatejob') {
    throw batchErrors.invalidPropertyValue('onAllTasksComplete', 'The completion behavior of a job cannot be changed from terminatejob to noaction.');
  }
  if (changes.maxParallelTasks !== undefined && changes.maxParallelTasks !== -1 && changes.maxParallelTasks < 1) {
    throw batchErrors.invalidPropertyValue('maxParallelTasks', 'maxParallelTasks must be -1 or greater than 0.');
  }
  let poolInfo = job.poolInfo;
  let executionInfo = job.executionInfo;
  if (changes.poolInfo?.autoPoolSpecification) {
    poolInfo = changedAutoPool(job, changes.poolInfo);
  } else if (changes.poolInfo) {
    const poolId = changes.poolInfo.poolId;
    if (!poolId) throw batchErrors.missingRequiredProperty('poolInfo.poolId');
    const samePool = poolId.toLowerCase() === (job.poolInfo.poolId ?? '').toLowerCase();
    if (!samePool && job.state !== 'disabled') throw batchErrors.jobNotDisabled();
    poolInfo = { poolId };
    executionInfo = { ...job.executionInfo, poolId };
  }
  const time = formatTimestamp(now);
  const next: Job = {
    ...job,
    eTag,
    lastModified: time,
    poolInfo,
    executionInfo,
    priority: changes.priority ?? job.priority,
    maxParallelTasks: changes.maxParallelTasks ?? job.maxParallelTasks,
    allowTaskPreemption: changes.allowTaskPreemption ?? job.allowTaskPreemption,
    onAllTasksComplete: changes.onAllTasksComplete ?? job.onAllTasksComplete,
  };
  if (changes.constraints) {
    next.constraints = {
      maxWallClockTime: changes.constraints.maxWallClockTime ?? UNLIMITED_DURATION,
      maxTaskRetryCount: changes.constraints.maxTaskRetryCount ?? 0,
    };
  }
  if (changes.metadata) next.metadata = changes.metadata;
  // Batch does not return an empty metadata list.
  if (next.metadata?.length === 0) delete next.metadata;
  return next;
}

/**
 * Batch lets a job keep its auto pool and change only keepAlive, and only
 * for the pool lifetime 'job'; moving a job to a new auto pool is not
 * supported by Lapis.
 */
function changedAutoPool(job: Job, changes: PoolInformationChange): PoolInformation {
  checkPoolInformation(changes, 'poolInfo');
  const current = job.poolInfo.autoPoolSpecification;
  const requested = changes.autoPoolSpecification;
  if (!current || !requested) {
    throw batchErrors.invalidPropertyValue('poolInfo.autoPoolSpecification', 'Lapis cannot move a job to a new auto pool; set poolInfo.poolId.');
  }
  if (requested.keepAlive === current.keepAlive) return job.poolInfo;
  if (current.poolLifetimeOption !== 'job') {
    throw batchErrors.invalidPropertyValue('poolInfo.autoPoolSpecification.keepAlive', 'keepAlive can be changed only for an auto pool whose poolLifetimeOption is job.');
  }
  return { autoPoolSpecification: { ...current, keepAlive: requested.keepAlive } };
}

/** Job_Patch: only what the request names changes. */
export function patchJob(job: Job, changes: JobChanges, now: Date, eTag: string): Job {
  return applyJobChanges(job, changes, now, eTag);
}

/** Job_Update: a replacement; what the request omits returns to its default. */
export function updateJob(job: Job, changes: JobChanges, now: Date, eTag: string): Job {
  return applyJobChanges(
    job,
    {
      ...changes,
      priority: changes.priority ?? 0,
      maxParallelTasks: changes.maxParallelTasks ?? -1,
      constraints: changes.constraints ?? {},
      metadata: changes.metadata ?? [],
      onAllTasksComplete: changes.onAllTasksComplete ?? 'noaction',
    },
    now,
    eTag,
  );
}

/** Job_Disable: the job stops starting tasks; `disableTasks` says what happens to running ones. */
export function beginJobDisable(current: JobWithInternal, option: DisableJobOption, now: Date, eTag: string): JobWithInternal {
  const { job, internal } = current;
  assertChangeable(job);
  if (job.state === 'enabling') throw batchErrors.jobNotActive();
  if (job.state === 'disabled' || job.state === 'disabling') return current;
  return { job: transition(job, 'disabling', now, eTag), internal: { ...internal, disableTasks: option } };
}

/** The end of a disable, once no running task is left to requeue, end or wait for. */
export function completeJobDisable({ job, internal }: JobWithInternal, now: Date, eTag: string): JobWithInternal {
  const { disableTasks: _option, ...rest } = internal;
  return { job: transition(job, 'disabled', now, eTag), internal: rest };
}

/** Job_Enable: a disabled job goes back to active and its tasks may start again. */
export function enableJob({ job, internal }: JobWithInternal, now: Date, eTag: string): JobWithInternal {
  assertChangeable(job);
  if (job.state !== 'disabled' && job.state !== 'disabling') throw batchErrors.jobNotDisabled();
  const { disableTasks: _option, ...rest } = internal;
  return { job: transition(job, 'active', now, eTag), internal: rest };
}
