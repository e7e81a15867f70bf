// The defaults Batch fills in when it answers with a task-like setting: the
// identity a run gets when none was given, a start task's retry and wait
// settings, and the job manager, preparation and release tasks of a job or
// job specification. Values follow the spec's property descriptions for
// 2022-10-01.16.0 (the examples there were captured when a start task's
// waitForSuccess and an auto user's scope had other defaults) and are the
// values Lapis runs with: core/pool-users.ts, core/node.ts beginStartTask,
// core/job-manager.ts, core/job-preparation.ts.

import type { UserIdentity } from '../../../core/common.js';
import { DEFAULT_RELEASE_WALL_CLOCK } from '../../../core/job-preparation.js';
import { DEFAULT_RETENTION_TIME } from '../../../core/task.js';
import { UNLIMITED_DURATION } from '../../../core/time.js';
import { isWireObject, type WireObject } from './wire-object.js';

/** A run with no identity runs as the pool's non-admin auto user; an auto user without scope or elevation gets those. */
export function userIdentityDefaults(identity: UserIdentity | undefined): UserIdentity {
  if (!identity || (identity.username === undefined && !identity.autoUser)) return { autoUser: { scope: 'pool', elevationLevel: 'nonadmin' } };
  if (!identity.autoUser) return identity;
  return { ...identity, autoUser: { ...identity.autoUser, scope: identity.autoUser.scope ?? 'pool', elevationLevel: identity.autoUser.elevationLevel ?? 'nonadmin' } };
}

/** A pool's (or node's) start task: its identity, no retries, and nodes that wait for it. */
export function startTaskDefaults(startTask: WireObject): WireObject {
  return {
    ...startTask,
    userIdentity: userIdentityDefaults(startTask.userIdentity as UserIdentity | undefined),
    maxTaskRetryCount: startTask.maxTaskRetryCount ?? 0,
    waitForSuccess: startTask.waitForSuccess ?? true,
  };
}

/** A task's constraints; a task's retries default to its job's. */
function taskConstraintsDefaults(constraints: unknown, jobMaxTaskRetryCount: number): WireObject {
  const given = isWireObject(constraints) ? constraints : {};
  return {
    ...given,
    maxWallClockTime: given.maxWallClockTime ?? UNLIMITED_DURATION,
    retentionTime: given.retentionTime ?? DEFAULT_RETENTION_TIME,
    maxTaskRetryCount: given.maxTaskRetryCount ?? jobMaxTaskRetryCount,
  };
}

export function jobManagerTaskDefaults(task: WireObject, jobMaxTaskRetryCount: number): WireObject {
  return {
    ...task,
    constraints: taskConstraintsDefaults(task.constraints, jobMaxTaskRetryCount),
    requiredSlots: task.requiredSlots ?? 1,
    killJobOnCompletion: task.killJobOnCompletion ?? true,
    userIdentity: userIdentityDefaults(task.userIdentity as UserIdentity | undefined),
    runExclusive: task.runExclusive ?? true,
    allowLowPriorityNode: task.allowLowPriorityNode ?? true,
  };
}

export function jobPreparationTaskDefaults(task: WireObject, jobMaxTaskRetryCount: number): WireObject {
  return {
    id: task.id ?? 'jobpreparation',
    ...task,
    constraints: taskConstraintsDefaults(task.constraints, jobMaxTaskRetryCount),
    waitForSuccess: task.waitForSuccess ?? true,
    userIdentity: userIdentityDefaults(task.userIdentity as UserIdentity | undefined),
    rerunOnNodeRebootAfterSuccess: task.rerunOnNodeRebootAfterSuccess ?? true,
  };
}

export function jobReleaseTaskDefaults(task: WireObject): WireObject {
  return {
    id: task.id ?? 'jobrelease',
    ...task,
    maxWallClockTime: task.maxWallClockTime ?? DEFAULT_RELEASE_WALL_CLOCK,
    retentionTime: task.retentionTime ?? DEFAULT_RETENTION_TIME,
    userIdentity: userIdentityDefaults(task.userIdentity as UserIdentity | undefined),
  };
}
