// A Batch job schedule: wire shape, lifecycle, and when it creates jobs.
//
//   active ◀──enable / disable──▶ disabled
//     │
//     ├──terminate──▶ terminating ──(its job ended)──▶ completed
//     ├──(no more runs and no active job)──────────▶ completed
//     └──delete (from any state)──▶ deleting ──(its jobs removed)──▶ (removed)
//
// A schedule has at most one active job. A run falls due at nextRunTime; if
// the previous job is still active then, the run waits for it, but only
// within startWindow: a run that cannot start in its window is skipped.

import type { NameValuePair, Versioned } from './common.js';
import { batchErrors } from './errors.js';
import { checkPoolInformation, type JobSpec } from './job.js';
import { creationStamps, transitionState } from './lifecycle.js';
import { formatTimestamp, isUnlimited, parseDuration } from './time.js';

export type JobScheduleState = 'active' | 'disabled' | 'terminating' | 'completed' | 'deleting';

export interface Schedule {
  doNotRunUntil?: string;
  doNotRunAfter?: string;
  startWindow?: string;
  recurrenceInterval?: string;
}

/** What each job of the schedule is created from: a job add without its id. */
export type JobSpecification = Partial<JobSpec> & { poolInfo: JobSpec['poolInfo'] };

export interface JobScheduleSpec {
  id: string;
  displayName?: string;
  schedule: Schedule;
  jobSpecification: JobSpecification;
  metadata?: NameValuePair[];
}

export interface JobScheduleExecutionInformation {
  nextRunTime?: string;
  recentJob?: { id: string; url?: string };
  endTime?: string;
}

export interface JobSchedule extends Versioned {
  id: string;
  displayName?: string;
  creationTime: string;
  state: JobScheduleState;
  stateTransitionTime: string;
  previousState?: JobScheduleState;
  previousStateTransitionTime?: string;
  schedule: Schedule;
  jobSpecification: JobSpecification;
  executionInfo: JobScheduleExecutionInformation;
  metadata?: NameValuePair[];
}

/** Lapis's own about a job schedule, kept beside its wire document (never answered). */
export interface JobScheduleInternal {
  /** How many jobs the schedule has created, for the next job's id. */
  jobCount?: number;
  /** The auto pool shared by the schedule's jobs (poolLifetimeOption 'jobschedule'). */
  autoPoolId?: string;
}

/** A job schedule and its internal part, as the transitions that create its jobs take and return them. */
export interface JobScheduleWithInternal {
  schedule: JobSchedule;
  internal: JobScheduleInternal;
}

const ONE_MINUTE_MS = 60_000;

function checkSchedule(schedule: Schedule): void {
  for (const name of ['startWindow', 'recurrenceInterval'] as const) {
    const text = schedule[name];
    if (text === undefined) continue;
    const ms = parseDuration(text);
    if (ms === undefined || ms < ONE_MINUTE_MS) throw batchErrors.invalidPropertyValue(`schedule.${name}`, `The ${name} must be at least one minute.`);
  }
}

/** The first run: at doNotRunUntil, or now. */
function firstRunTime(schedule: Schedule, now: Date): string {
  if (schedule.doNotRunUntil && Date.parse(schedule.doNotRunUntil) > now.getTime()) return schedule.doNotRunUntil;
  return formatTimestamp(now);
}

export function createJobSchedule(spec: JobScheduleSpec, now: Date, eTag: string): JobScheduleWithInternal {
  checkSchedule(spec.schedule);
  checkPoolInformation(spec.jobSpecification.poolInfo ?? {}, 'jobSpecification.poolInfo');
  return {
    schedule: {
      ...spec,
      ...creationStamps(now, eTag),
      id: spec.id,
      executionInfo: { nextRunTime: firstRunTime(spec.schedule, now) },
    },
    internal: { jobCount: 0 },
  };
}

function touch(schedule: JobSchedule, now: Date, eTag: string): JobSchedule {
  return { ...schedule, eTag, lastModified: formatTimestamp(now) };
}

function assertChangeable(schedule: JobSchedule): void {
  if (schedule.state === 'completed') throw batchErrors.jobScheduleCompleted();
  if (schedule.state === 'terminating') throw batchErrors.jobScheduleBeingTerminated();
  if (schedule.state === 'deleting') throw batchErrors.jobScheduleBeingDeleted();
}

export interface JobScheduleChanges {
  schedule?: Schedule;
  jobSpecification?: JobSpecification;
  metadata?: NameValuePair[];
}

/** Patch merges and update replaces; either way only jobs created afterwards see the change. */
export function changeJobSchedule(schedule: JobSchedule, changes: JobScheduleChanges, mode: 'patch' | 'update', now: Date, eTag: string): JobSchedule {
  assertChangeable(schedule);
  if (changes.schedule) checkSchedule(changes.schedule);
  const next = touch(schedule, now, eTag);
  if (changes.schedule) {
    next.schedule = changes.schedule;
    // A new schedule starts counting from now: the next run follows its rules.
    if (next.executionInfo.nextRunTime !== undefined || next.state === 'active') {
      next.executionInfo = { ...next.executionInfo, nextRunTime: firstRunTime(changes.schedule, now) };
    }
  }
  if (changes.jobSpecification) next.jobSpecification = changes.jobSpecification;
  if (changes.metadata) next.metadata = changes.metadata;
  else if (mode === 'update') delete next.metadata;
  if (next.metadata?.length === 0) delete next.metadata;
  return next;
}

export function disableJobSchedule(schedule: JobSchedule, now: Date, eTag: string): JobSchedule {
  assertChangeable(schedule);
  if (schedule.state === 'disabled') return schedule;
  return transitionState<JobScheduleState, JobSchedule>(schedule, 'disabled', now, eTag);
}

export function enableJobSchedule(schedule: JobSchedule, now: Date, eTag: string): JobSchedule {
  assertChangeable(schedule);
  if (schedule.state === 'active') return schedule;
  return transitionState<JobScheduleState, JobSchedule>(schedule, 'active', now, eTag);
}

export function beginJobScheduleTermination(schedule: JobSchedule, now: Date, eTag: string): JobSchedule {
  assertChangeable(schedule);
  return transitionState<JobScheduleState, JobSchedule>(schedule, 'terminating', now, eTag);
}

export function markJobScheduleDeleting(schedule: JobSchedule, now: Date, eTag: string): JobSchedule {
  if (schedule.state === 'deleting') throw batchErrors.jobScheduleBeingDeleted();
  return transitionState<JobScheduleState, JobSchedule>(schedule, 'deleting', now, eTag);
}

export function completeJobSchedule(schedule: JobSchedule, now: Date, eTag: string): JobSchedule {
  const next = transitionState<JobScheduleState, JobSchedule>(schedule, 'completed', now, eTag);
  const { nextRunTime: _none, ...execution } = schedule.executionInfo;
  return { ...next, executionInfo: { ...execution, endTime: formatTimestamp(now) } };
}

/** The id of the schedule's next job, as Batch names them. */
export function nextJobId({ schedule, internal }: JobScheduleWithInternal): string {
  return `${schedule.id}:job-${(internal.jobCount ?? 0) + 1}`;
}

export type ScheduleStep =
  | { kind: 'wait' }
  | { kind: 'createJob' }
  | { kind: 'skip' }
  | { kind: 'complete' };

/**
 * What an active schedule does now. `hasActiveJob`: its most recent job is
 * not completed yet.
 */
export function scheduleStep(schedule: JobSchedule, hasActiveJob: boolean, now: Date): ScheduleStep {
  const { nextRunTime } = schedule.executionInfo;
  const doNotRunAfter = schedule.schedule.doNotRunAfter ? Date.parse(schedule.schedule.doNotRunAfter) : undefined;
  const finished = nextRunTime === undefined || (doNotRunAfter !== undefined && Date.parse(nextRunTime) > doNotRunAfter);
  if (finished) return hasActiveJob ? { kind: 'wait' } : { kind: 'complete' };
  const due = Date.parse(nextRunTime);
  if (now.getTime() < due) return { kind: 'wait' };
  const window = schedule.schedule.startWindow ? parseDuration(schedule.schedule.startWindow) : undefined;
  const missed = window !== undefined && !isUnlimited(window) && now.getTime() > due + window;
  if (missed) return { kind: 'skip' };
  return hasActiveJob ? { kind: 'wait' } : { kind: 'createJob' };
}

/** After a run was created or skipped: the next one, one recurrence later, or none. A created job counts in the internal part. */
export function advanceSchedule(
  { schedule, internal }: JobScheduleWithInternal,
  created: { jobId: string; jobUrl?: string } | undefined,
  now: Date,
  eTag: string,
): JobScheduleWithInternal {
  const next = touch(schedule, now, eTag);
  const interval = schedule.schedule.recurrenceInterval ? parseDuration(schedule.schedule.recurrenceInterval) : undefined;
  const previous = schedule.executionInfo.nextRunTime ? Date.parse(schedule.executionInfo.nextRunTime) : now.getTime();
  let nextRunTime: string | undefined;
  if (interval !== undefined && !isUnlimited(interval)) {
    // Runs that fell due while none could start are not carried forward.
    let time = previous + interval;
    while (time + interval <= now.getTime()) time += interval;
    nextRunTime = formatTimestamp(new Date(time));
  }
  next.executionInfo = { ...schedule.executionInfo, nextRunTime };
  if (nextRunTime === undefined) delete next.executionInfo.nextRunTime;
  if (created === undefined) return { schedule: next, internal };
  next.executionInfo.recentJob = { id: created.jobId, ...(created.jobUrl ? { url: created.jobUrl } : {}) };
  return { schedule: next, internal: { ...internal, jobCount: (internal.jobCount ?? 0) + 1 } };
}

/** When the schedule next needs attention, in epoch ms; undefined when only a job's end can move it. */
export function nextWakeTime(schedule: JobSchedule): number | undefined {
  if (schedule.state !== 'active' || schedule.executionInfo.nextRunTime === undefined) return undefined;
  return Date.parse(schedule.executionInfo.nextRunTime);
}

/** The schedule's shared auto pool, when its jobs take one for the schedule's whole lifetime. */
export function sharesAutoPool(schedule: JobSchedule): boolean {
  return schedule.jobSpecification.poolInfo.autoPoolSpecification?.poolLifetimeOption === 'jobschedule';
}
