// The defaults Batch fills in when it answers with a job or a job
// schedule's job specification: priority, parallelism, preemption,
// dependencies, completion and failure actions, constraints, the job
// manager, preparation and release tasks, and an auto pool's specification.
// A job stores its top-level defaults when it is added (core/job.ts
// createJob); a schedule keeps its job specification as given, so both are
// answered through here.

import { UNLIMITED_DURATION } from '../../../core/time.js';
import { poolSpecificationDefaults } from './pool-settings.js';
import { jobManagerTaskDefaults, jobPreparationTaskDefaults, jobReleaseTaskDefaults } from './task-settings.js';
import { isWireObject, type WireObject } from './wire-object.js';

function constraintsDefaults(constraints: unknown): WireObject {
  const given = isWireObject(constraints) ? constraints : {};
  return { ...given, maxWallClockTime: given.maxWallClockTime ?? UNLIMITED_DURATION, maxTaskRetryCount: given.maxTaskRetryCount ?? 0 };
}

/** poolInfo with an auto pool: its keepAlive and its pool specification's defaults. */
function poolInfoDefaults(poolInfo: WireObject): WireObject {
  const auto = poolInfo.autoPoolSpecification;
  if (!isWireObject(auto)) return poolInfo;
  const autoPoolSpecification: WireObject = { ...auto, keepAlive: auto.keepAlive ?? false };
  if (isWireObject(auto.pool)) autoPoolSpecification.pool = poolSpecificationDefaults(auto.pool);
  return { ...poolInfo, autoPoolSpecification };
}

/** A job, or a schedule's job specification. */
export function jobSpecificationDefaults<T extends object>(job: T): T {
  const wire = job as WireObject;
  const constraints = constraintsDefaults(wire.constraints);
  const filled: WireObject = {
    ...wire,
    priority: wire.priority ?? 0,
    maxParallelTasks: wire.maxParallelTasks ?? -1,
    allowTaskPreemption: wire.allowTaskPreemption ?? false,
    usesTaskDependencies: wire.usesTaskDependencies ?? false,
    onAllTasksComplete: wire.onAllTasksComplete ?? 'noaction',
    onTaskFailure: wire.onTaskFailure ?? 'noaction',
    constraints,
  };
  const retries = constraints.maxTaskRetryCount as number;
  if (isWireObject(wire.jobManagerTask)) filled.jobManagerTask = jobManagerTaskDefaults(wire.jobManagerTask, retries);
  if (isWireObject(wire.jobPreparationTask)) filled.jobPreparationTask = jobPreparationTaskDefaults(wire.jobPreparationTask, retries);
  if (isWireObject(wire.jobReleaseTask)) filled.jobReleaseTask = jobReleaseTaskDefaults(wire.jobReleaseTask);
  if (isWireObject(wire.poolInfo)) filled.poolInfo = poolInfoDefaults(wire.poolInfo);
  return filled as T;
}

/** A job schedule: its job specification. */
export function jobScheduleDefaults<T extends object>(schedule: T): T {
  const wire = schedule as WireObject;
  if (!isWireObject(wire.jobSpecification)) return schedule;
  return { ...wire, jobSpecification: jobSpecificationDefaults(wire.jobSpecification) } as T;
}
