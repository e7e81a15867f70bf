// A Batch task: wire shape and lifecycle.
//
//            ┌──────── requeue (node lost, pool deleted; requeueCount + 1) ────────┐
//            ▼                                                                     │
//   add ─▶ active ──assignToNode──▶ running ──finish (exit 0 or out of retries)──▶ completed
//           │  ▲                    ▲    │    ▲
//           │  │                    │    └────┘ retry: non-zero exit with retries left; runs
//           │  │                    │           again on the same node, same directory
//           │  │                    │           (retryCount + 1), as Batch does
//           │  │                    └──startAfterPreparation (it succeeded there)─────┐
//           │  └──returnFromPreparation (it failed there, or the node went)──┐        │
//           └──assignToNode (the node's job preparation task is not done)──▶ preparing
//
// `attempt` fences results: a report for an earlier attempt (a node that
// came back after its task was requeued) is ignored.

import type {
  ApplicationPackageReference,
  EnvironmentSetting,
  OutputFile,
  ResourceFile,
  TaskFailureInfo,
  UserIdentity,
  Versioned,
} from './common.js';
import { batchErrors } from './errors.js';
import { checkTaskContainerSettings, type TaskContainerSettings } from './container-settings.js';
import { resolveExitOptions, type DependencyAction, type ExitConditions, type JobAction } from './exit-conditions.js';
import type { Job } from './job.js';
import type { InstanceStatus, MultiInstanceSettings } from './multi-instance.js';
import type { TaskNodeInfo } from './task-node-info.js';
import { creationStamps, transitionState } from './lifecycle.js';
import { earnsRetry, runResult } from './run-outcome.js';
import { formatTimestamp, isUnlimited, parseDuration, UNLIMITED_DURATION } from './time.js';

export type TaskState = 'active' | 'preparing' | 'running' | 'completed';
export type TaskExecutionResult = 'success' | 'failure';

export interface TaskConstraints {
  maxWallClockTime: string;
  retentionTime: string;
  maxTaskRetryCount: number;
}

export interface TaskSpec {
  id: string;
  displayName?: string;
  commandLine: string;
  resourceFiles?: ResourceFile[];
  outputFiles?: OutputFile[];
  environmentSettings?: EnvironmentSetting[];
  constraints?: Partial<TaskConstraints>;
  requiredSlots?: number;
  userIdentity?: UserIdentity;
  dependsOn?: TaskDependencies;
  applicationPackageReferences?: ApplicationPackageReference[];
  exitConditions?: ExitConditions;
  multiInstanceSettings?: Record<string, unknown>;
  containerSettings?: TaskContainerSettings;
  [extra: string]: unknown;
}

export interface TaskExecutionInformation {
  startTime?: string;
  endTime?: string;
  exitCode?: number;
  failureInfo?: TaskFailureInfo;
  retryCount: number;
  lastRetryTime?: string;
  requeueCount: number;
  lastRequeueTime?: string;
  result?: TaskExecutionResult;
}

export type { TaskNodeInfo } from './task-node-info.js';

export interface Task extends Versioned {
  id: string;
  displayName?: string;
  creationTime: string;
  state: TaskState;
  stateTransitionTime: string;
  previousState?: TaskState;
  previousStateTransitionTime?: string;
  commandLine: string;
  resourceFiles?: ResourceFile[];
  outputFiles?: OutputFile[];
  environmentSettings?: EnvironmentSetting[];
  exitConditions?: ExitConditions;
  dependsOn?: TaskDependencies;
  applicationPackageReferences?: ApplicationPackageReference[];
  multiInstanceSettings?: MultiInstanceSettings;
  constraints: TaskConstraints;
  requiredSlots: number;
  userIdentity: UserIdentity;
  executionInfo: TaskExecutionInformation;
  nodeInfo?: TaskNodeInfo;
  [extra: string]: unknown;
}

/** Lapis's own about a task, kept beside its wire document (never answered as part of it). */
export interface TaskInternal {
  /** What the completed task's exit conditions say for its dependents. */
  dependencyAction?: DependencyAction;
  /** The task's directory was removed when its retention time ran out. */
  filesCleanedUp?: boolean;
  /** The slots the running task holds on its node (a job manager may hold them all). */
  slotsHeld?: number;
  /** The instances of a running or completed multi-instance task; Task_ListSubtasks answers from them. */
  instances?: InstanceStatus[];
}

/** A task and its internal part, as the transitions that change the internal part take and return them. */
export interface TaskWithInternal {
  task: Task;
  internal: TaskInternal;
}

export interface TaskDependencies {
  taskIds?: string[];
  taskIdRanges?: { start: number; end: number }[];
}

export const DEFAULT_RETENTION_TIME = 'P7D';

/** Batch limits the explicit parents of a task to 64,000 characters of ids. */
const MAX_DEPENDENCY_ID_CHARACTERS = 64_000;

function checkExitConditions(conditions: ExitConditions | undefined, job: Job): void {
  if (!conditions || job.onTaskFailure !== 'noaction') return;
  const options = [
    ...(conditions.exitCodes ?? []).map((entry) => entry.exitOptions),
    ...(conditions.exitCodeRanges ?? []).map((entry) => entry.exitOptions),
    conditions.preProcessingError,
    conditions.fileUploadError,
    conditions.default,
  ];
  if (options.some((option) => option?.jobAction !== undefined)) {
    throw batchErrors.invalidPropertyValue('exitConditions', "jobAction needs a job whose onTaskFailure is 'performexitoptionsjobaction'.");
  }
}

export function createTask(spec: TaskSpec, job: Job, now: Date, eTag: string): Task {
  if (spec.dependsOn && !job.usesTaskDependencies) throw batchErrors.taskDependenciesNotSpecifiedOnJob();
  if ((spec.dependsOn?.taskIds ?? []).reduce((length, id) => length + id.length, 0) > MAX_DEPENDENCY_ID_CHARACTERS) {
    throw batchErrors.taskDependencyListTooLong();
  }
  for (const range of spec.dependsOn?.taskIdRanges ?? []) {
    if (range.start > range.end) throw batchErrors.invalidPropertyValue('dependsOn.taskIdRanges', 'A range\'s start must not be greater than its end.');
  }
  checkExitConditions(spec.exitConditions, job);
  if (spec.containerSettings) checkTaskContainerSettings(spec.containerSettings, 'containerSettings');
  if (spec.requiredSlots !== undefined && spec.requiredSlots < 1) {
    throw batchErrors.invalidPropertyValue('requiredSlots', 'requiredSlots must be at least 1.');
  }
  const access = (spec.authenticationTokenSettings as { access?: unknown } | undefined)?.access;
  if (access !== undefined && (!Array.isArray(access) || access.some((scope) => scope !== 'job'))) {
    throw batchErrors.invalidPropertyValue('authenticationTokenSettings.access', "The only access scope is 'job'.");
  }
  if (spec.userIdentity?.username && spec.userIdentity.autoUser) {
    throw batchErrors.invalidPropertyValue('userIdentity', 'Specify either userName or autoUser, not both.');
  }
  // Object.assign makes the same object as one literal of several spreads, in
  // the same key order, at a tenth of the cost in V8: that literal was most of
  // an addCollection's time per task.
  // A stored task starts with its id and displayName and has no `url`: its
  // wire form adds the URL after them (api task-wire.ts splices it into the
  // stored JSON text on that promise).
  const lead = spec.displayName === undefined ? { id: spec.id } : { id: spec.id, displayName: spec.displayName };
  const task: Task = Object.assign(lead, spec, creationStamps(now, eTag), {
    id: spec.id,
    commandLine: spec.commandLine,
    constraints: {
      maxWallClockTime: spec.constraints?.maxWallClockTime ?? UNLIMITED_DURATION,
      retentionTime: spec.constraints?.retentionTime ?? DEFAULT_RETENTION_TIME,
      maxTaskRetryCount: spec.constraints?.maxTaskRetryCount ?? job.constraints.maxTaskRetryCount,
    },
    requiredSlots: spec.requiredSlots ?? 1,
    userIdentity: spec.userIdentity ?? { autoUser: { scope: 'pool' as const, elevationLevel: 'nonadmin' as const } },
    executionInfo: { retryCount: 0, requeueCount: 0 },
  });
  if (task.url !== undefined) delete task.url;
  return task;
}

function transition(task: Task, state: TaskState, now: Date, eTag: string): Task {
  return transitionState<TaskState, Task>(task, state, now, eTag);
}

/** A task assigned to a node runs there, or first waits (`preparing`) for the job preparation task on that node. */
export function assignToNode(task: Task, nodeInfo: TaskNodeInfo, now: Date, eTag: string, state: 'running' | 'preparing' = 'running'): Task {
  const next = transition(task, state, now, eTag);
  const { endTime: _end, exitCode: _exit, failureInfo: _failure, result: _result, startTime: _start, ...execution } = task.executionInfo;
  return { ...next, nodeInfo, executionInfo: state === 'running' ? { ...execution, startTime: formatTimestamp(now) } : execution };
}

/** The job preparation task succeeded on the preparing task's node: the task starts there. */
export function startAfterPreparation(task: Task, now: Date, eTag: string): Task {
  const next = transition(task, 'running', now, eTag);
  return { ...next, executionInfo: { ...task.executionInfo, startTime: formatTimestamp(now) } };
}

/**
 * The job preparation task failed on the preparing task's node (or the node
 * went): the task is active again, eligible for another node; it never ran,
 * so this is no requeue.
 */
export function returnFromPreparation({ task, internal }: TaskWithInternal, now: Date, eTag: string): TaskWithInternal {
  const next = transition(task, 'active', now, eTag);
  const { nodeInfo: _node, ...rest } = next;
  const { slotsHeld: _slots, ...kept } = internal;
  return { task: rest, internal: kept };
}

export interface TaskRunOutcome {
  exitCode?: number;
  failureInfo?: TaskFailureInfo;
  startTime?: string;
  endTime: string;
}

/** Whether a finished run earns another try: only non-zero exits retry, never pre-processing errors. */
export function shouldRetry(task: Task, outcome: TaskRunOutcome): boolean {
  return earnsRetry(outcome, task.executionInfo.retryCount, task.constraints.maxTaskRetryCount);
}

/** The task stays running on its node for another try; startTime is the latest try's. */
export function retryTask(task: Task, now: Date, eTag: string): Task {
  const time = formatTimestamp(now);
  const { endTime: _end, exitCode: _exit, failureInfo: _failure, result: _result, ...execution } = task.executionInfo;
  return {
    ...task,
    eTag,
    lastModified: time,
    executionInfo: { ...execution, startTime: time, retryCount: task.executionInfo.retryCount + 1, lastRetryTime: time },
  };
}

/** The task completes; its internal part records what its exit conditions say for its dependents. */
export function completeTask({ task, internal }: TaskWithInternal, outcome: TaskRunOutcome, now: Date, eTag: string): TaskWithInternal {
  const next = transition(task, 'completed', now, eTag);
  const { failed, failureInfo } = runResult(outcome);
  const executionInfo: TaskExecutionInformation = {
    ...task.executionInfo,
    startTime: outcome.startTime ?? task.executionInfo.startTime ?? outcome.endTime,
    endTime: outcome.endTime,
    result: failed ? 'failure' : 'success',
  };
  if (outcome.exitCode !== undefined) executionInfo.exitCode = outcome.exitCode;
  else delete executionInfo.exitCode;
  if (failureInfo) executionInfo.failureInfo = failureInfo;
  else delete executionInfo.failureInfo;
  const { dependencyAction } = resolveExitOptions(task.exitConditions, { exitCode: outcome.exitCode, failureInfo });
  return { task: { ...next, executionInfo }, internal: { ...internal, dependencyAction } };
}

/** What the job should do now that the task completed, per its exit conditions. */
export function completionJobAction(task: Task): JobAction {
  const { exitCode, failureInfo } = task.executionInfo;
  return resolveExitOptions(task.exitConditions, { exitCode, failureInfo }).jobAction;
}

/** Returns a task whose node was lost to the queue; requeues do not count as retries. */
export function requeueTask({ task, internal }: TaskWithInternal, now: Date, eTag: string): TaskWithInternal {
  const next = transition(task, 'active', now, eTag);
  const { nodeInfo: _node, ...rest } = next;
  const { instances: _instances, slotsHeld: _slots, ...kept } = internal;
  return {
    task: {
      ...rest,
      executionInfo: { ...task.executionInfo, requeueCount: task.executionInfo.requeueCount + 1, lastRequeueTime: formatTimestamp(now) },
    },
    internal: kept,
  };
}

export const TASK_ENDED: TaskFailureInfo = { category: 'usererror', code: 'TaskEnded', message: 'Task Was Ended by User Request' };

/**
 * A task stopped by its own constraints.maxWallClockTime: Batch's error
 * handling page gives `{ category: ServerError, code: TaskEnded }` for it
 * (MaxWallClockTimeExpiry is a job's terminateReason, for the job's limit).
 */
export const MAX_WALL_CLOCK_TIME_EXPIRED: TaskFailureInfo = {
  category: 'servererror',
  code: 'TaskEnded',
  message: 'The task ran longer than its maxWallClockTime and was ended.',
};

/** The wire path of a task's directory on its node, relative to the node root. */
export function taskRootDirectory(jobId: string, taskId: string): string {
  return `workitems/${jobId}/job-1/${taskId}`;
}

/** Task_Update replaces the constraints; what it omits returns to the defaults. */
export function updateTaskConstraints(task: Task, job: Job, constraints: Partial<TaskConstraints> | undefined, now: Date, eTag: string): Task {
  if (task.state === 'completed') throw batchErrors.taskCompleted();
  const time = formatTimestamp(now);
  return {
    ...task,
    eTag,
    lastModified: time,
    constraints: {
      maxWallClockTime: constraints?.maxWallClockTime ?? UNLIMITED_DURATION,
      retentionTime: constraints?.retentionTime ?? DEFAULT_RETENTION_TIME,
      maxTaskRetryCount: constraints?.maxTaskRetryCount ?? job.constraints.maxTaskRetryCount,
    },
  };
}

/** Task_Terminate of a task that has not run yet: it completes as ended, without a run. */
export function terminateWaitingTask(current: TaskWithInternal, now: Date, eTag: string): TaskWithInternal {
  return completeTask(current, { failureInfo: TASK_ENDED, endTime: formatTimestamp(now) }, now, eTag);
}

/** Task_Reactivate: a failed task goes back to the queue with its retries renewed. */
export function reactivateTask({ task, internal }: TaskWithInternal, job: Job, now: Date, eTag: string): TaskWithInternal {
  if (job.state === 'completed') throw batchErrors.jobCompleted();
  if (job.state === 'terminating') throw batchErrors.jobBeingTerminated();
  if (job.state === 'deleting') throw batchErrors.jobBeingDeleted();
  if (task.state !== 'completed') throw batchErrors.taskNotReactivatable('The task is not completed; only completed tasks that failed can be reactivated.');
  if (task.executionInfo.result !== 'failure') {
    throw batchErrors.taskNotReactivatable('The task completed successfully; only tasks that failed can be reactivated.');
  }
  const next = transition(task, 'active', now, eTag);
  const { nodeInfo: _node, ...rest } = next;
  const { dependencyAction: _action, ...kept } = internal;
  const { endTime: _end, exitCode: _exit, failureInfo: _failure, result: _result, startTime: _start, lastRetryTime: _retry, ...execution } =
    task.executionInfo;
  return { task: { ...rest, executionInfo: { ...execution, retryCount: 0 } }, internal: kept };
}

/** When a completed task's directory is removed (its retentionTime after it ended), epoch ms; undefined if not due. */
export function retentionDeadline(task: Task, internal: TaskInternal): number | undefined {
  if (task.state !== 'completed' || internal.filesCleanedUp || !task.nodeInfo || !task.executionInfo.endTime) return undefined;
  const retention = parseDuration(task.constraints.retentionTime);
  if (retention === undefined || isUnlimited(retention)) return undefined;
  return Date.parse(task.executionInfo.endTime) + retention;
}

/** A task token outlives the run it is issued for by at most this much: Batch documents no lifetime; a week covers long job managers. */
const AUTHENTICATION_TOKEN_LIFETIME_MS = 7 * 24 * 3600_000;

/**
 * When the authentication token of a run starting at `now` expires, for a
 * task whose authenticationTokenSettings ask for job access; undefined for
 * other tasks. A run with a maxWallClockTime needs it no longer than that.
 */
export function authenticationTokenExpiry(task: Task, now: Date): Date | undefined {
  const access = (task.authenticationTokenSettings as { access?: string[] } | undefined)?.access ?? [];
  if (!access.includes('job')) return undefined;
  const wallClock = parseDuration(task.constraints.maxWallClockTime);
  const lifetime = wallClock === undefined || isUnlimited(wallClock) ? AUTHENTICATION_TOKEN_LIFETIME_MS : Math.min(wallClock, AUTHENTICATION_TOKEN_LIFETIME_MS);
  return new Date(now.getTime() + lifetime);
}

export function markFilesCleanedUp(internal: TaskInternal): TaskInternal {
  return { ...internal, filesCleanedUp: true };
}
