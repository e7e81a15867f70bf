// A job's preparation and release tasks: the preparation task runs once on
// each node before the job's first task there (and again after a reboot,
// unless told not to); the release task runs, when the job ends, on every
// node that ran the preparation task. Each node's progress is one
// JobNodeStatus, which Job_ListPreparationAndReleaseTaskStatus reports.

import type { EnvironmentSetting, ResourceFile, TaskFailureInfo, UserIdentity } from './common.js';
import type { Job } from './job.js';
import type { TaskContainerSettings } from './container-settings.js';
import { runResult } from './run-outcome.js';
import { formatTimestamp } from './time.js';

export interface JobPreparationTask {
  id?: string;
  commandLine: string;
  resourceFiles?: ResourceFile[];
  environmentSettings?: EnvironmentSetting[];
  constraints?: { maxWallClockTime?: string; retentionTime?: string; maxTaskRetryCount?: number };
  waitForSuccess?: boolean;
  userIdentity?: UserIdentity;
  rerunOnNodeRebootAfterSuccess?: boolean;
  containerSettings?: TaskContainerSettings;
}

export interface JobReleaseTask {
  id?: string;
  commandLine: string;
  resourceFiles?: ResourceFile[];
  environmentSettings?: EnvironmentSetting[];
  maxWallClockTime?: string;
  retentionTime?: string;
  userIdentity?: UserIdentity;
  containerSettings?: TaskContainerSettings;
}

export interface PrepReleaseExecutionInfo {
  state: 'running' | 'completed';
  startTime: string;
  endTime?: string;
  taskRootDirectory: string;
  taskRootDirectoryUrl?: string;
  exitCode?: number;
  failureInfo?: TaskFailureInfo;
  retryCount: number;
  lastRetryTime?: string;
  result?: 'success' | 'failure';
}

export interface JobNodeStatus {
  poolId: string;
  nodeId: string;
  nodeUrl: string;
  jobPreparationTaskExecutionInfo?: PrepReleaseExecutionInfo;
  jobReleaseTaskExecutionInfo?: PrepReleaseExecutionInfo;
}

/** Lapis's own about a node's status for a job, kept beside its wire document (never answered): attempts that fence reports of earlier runs. */
export interface JobNodeStatusInternal {
  preparationAttempt: number;
  releaseAttempt: number;
}

/** A node's status for a job and its internal part, as the run transitions take and return them. */
export interface JobNodeStatusWithInternal {
  status: JobNodeStatus;
  internal: JobNodeStatusInternal;
}

/** The attempt of the kind's run under way, which its reports must name. */
export function attemptOf(internal: JobNodeStatusInternal, kind: PrepReleaseKind): number {
  return kind === 'jobPreparation' ? internal.preparationAttempt : internal.releaseAttempt;
}

function nextAttempt(internal: JobNodeStatusInternal, kind: PrepReleaseKind): JobNodeStatusInternal {
  return kind === 'jobPreparation' ? { ...internal, preparationAttempt: internal.preparationAttempt + 1 } : { ...internal, releaseAttempt: internal.releaseAttempt + 1 };
}

export type PrepReleaseKind = 'jobPreparation' | 'jobRelease';

export const DEFAULT_RELEASE_WALL_CLOCK = 'PT15M';

export function preparationTaskOf(job: Job): JobPreparationTask | undefined {
  return job.jobPreparationTask as JobPreparationTask | undefined;
}

export function releaseTaskOf(job: Job): JobReleaseTask | undefined {
  return job.jobReleaseTask as JobReleaseTask | undefined;
}

/** Where Batch runs them on a Linux node, beside the job's tasks. */
export function prepReleaseDirectory(jobId: string, kind: PrepReleaseKind): string {
  return `workitems/${jobId}/job-1/${kind === 'jobPreparation' ? 'jobpreparation' : 'jobrelease'}`;
}

/** With waitForSuccess (the default) the job's tasks wait on a node until its preparation succeeded there. */
export function preparationGatesTasks(job: Job): boolean {
  return (preparationTaskOf(job)?.waitForSuccess ?? true) === true;
}

export function preparationSucceeded(status: JobNodeStatus | undefined): boolean {
  return status?.jobPreparationTaskExecutionInfo?.result === 'success';
}

/**
 * Where the job's tasks stand on a node: `ready` to run, `preparing` (they
 * may be assigned there but wait until its preparation task succeeds), or
 * `unavailable` (it failed there, or has not started).
 */
export type NodePreparation = 'ready' | 'preparing' | 'unavailable';

export function nodePreparation(job: Job, status: JobNodeStatus | undefined): NodePreparation {
  if (!preparationTaskOf(job) || !preparationGatesTasks(job) || preparationSucceeded(status)) return 'ready';
  return status && isRunning(status, 'jobPreparation') ? 'preparing' : 'unavailable';
}

function startedInfo(directory: string, directoryUrl: string, now: Date): PrepReleaseExecutionInfo {
  return { state: 'running', startTime: formatTimestamp(now), taskRootDirectory: directory, taskRootDirectoryUrl: directoryUrl, retryCount: 0 };
}

export function beginRun(
  { status, internal }: JobNodeStatusWithInternal,
  kind: PrepReleaseKind,
  directoryUrl: string,
  jobId: string,
  now: Date,
): JobNodeStatusWithInternal {
  const info = startedInfo(prepReleaseDirectory(jobId, kind), directoryUrl, now);
  return {
    status: kind === 'jobPreparation' ? { ...status, jobPreparationTaskExecutionInfo: info } : { ...status, jobReleaseTaskExecutionInfo: info },
    internal: nextAttempt(internal, kind),
  };
}

export function retryRun(current: JobNodeStatusWithInternal, kind: PrepReleaseKind, now: Date): JobNodeStatusWithInternal {
  const { status, internal } = current;
  const key = kind === 'jobPreparation' ? 'jobPreparationTaskExecutionInfo' : 'jobReleaseTaskExecutionInfo';
  const info = status[key];
  if (!info) return current;
  const time = formatTimestamp(now);
  const retried: PrepReleaseExecutionInfo = {
    state: 'running',
    startTime: time,
    taskRootDirectory: info.taskRootDirectory,
    taskRootDirectoryUrl: info.taskRootDirectoryUrl,
    retryCount: info.retryCount + 1,
    lastRetryTime: time,
  };
  return {
    status: kind === 'jobPreparation' ? { ...status, jobPreparationTaskExecutionInfo: retried } : { ...status, jobReleaseTaskExecutionInfo: retried },
    internal: nextAttempt(internal, kind),
  };
}

export function completeRun(
  status: JobNodeStatus,
  kind: PrepReleaseKind,
  outcome: { exitCode?: number; failureInfo?: TaskFailureInfo; endTime: string },
): JobNodeStatus {
  const key = kind === 'jobPreparation' ? 'jobPreparationTaskExecutionInfo' : 'jobReleaseTaskExecutionInfo';
  const info = status[key];
  if (!info) return status;
  const { failed, failureInfo } = runResult(outcome);
  const completed: PrepReleaseExecutionInfo = { ...info, state: 'completed', endTime: outcome.endTime, result: failed ? 'failure' : 'success' };
  if (outcome.exitCode !== undefined) completed.exitCode = outcome.exitCode;
  if (failureInfo) completed.failureInfo = failureInfo;
  return { ...status, [key]: completed };
}

export function isRunning(status: JobNodeStatus, kind: PrepReleaseKind): boolean {
  const info = kind === 'jobPreparation' ? status.jobPreparationTaskExecutionInfo : status.jobReleaseTaskExecutionInfo;
  return info?.state === 'running';
}
