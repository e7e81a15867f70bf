// Request bodies of the job and job schedule operations, typed against
// core's types and checked against @azure/batch's models first (validate.ts).

import { z } from 'zod';
import type { DisableJobOption, JobChanges, JobSpec } from '../../../core/job.js';
import type { JobScheduleChanges, JobScheduleSpec, JobSpecification } from '../../../core/job-schedule.js';
import { poolSpecificationSchema } from './pool.js';
import { taskAddSchema } from './task.js';
import { duration, environmentSettings, integer, lowerEnum, nameValuePairs, requestBody, resourceFile, timestamp, userIdentity } from './validate.js';

const priority = () => integer().min(-1000).max(1000);
const constraints = () => z.looseObject({ maxWallClockTime: duration().optional(), maxTaskRetryCount: integer().min(-1).optional() });
const autoPoolSpecification = () =>
  z.looseObject({
    autoPoolIdPrefix: z
      .string()
      .max(20)
      .regex(/^[A-Za-z0-9_-]*$/, { message: 'The prefix may hold only letters, digits, hyphens and underscores.' })
      .optional(),
    poolLifetimeOption: lowerEnum(['jobschedule', 'job']),
    keepAlive: z.boolean().optional(),
    pool: poolSpecificationSchema,
  });
const poolInfo = () => z.looseObject({ poolId: z.string().optional(), autoPoolSpecification: autoPoolSpecification().optional() });
// A change may name only keepAlive: the pool of an existing auto pool does not change.
const changedPoolInfo = () =>
  z.looseObject({ poolId: z.string().optional(), autoPoolSpecification: autoPoolSpecification().partial({ pool: true }).optional() });
const onAllTasksComplete = () => lowerEnum(['noaction', 'terminatejob']);

const jobPreparationTask = () =>
  z.looseObject({
    id: z.string().max(64).optional(),
    commandLine: z.string(),
    resourceFiles: z.array(resourceFile()).optional(),
    environmentSettings: environmentSettings().optional(),
    constraints: z
      .looseObject({ maxWallClockTime: duration().optional(), retentionTime: duration().optional(), maxTaskRetryCount: integer().min(-1).optional() })
      .optional(),
    waitForSuccess: z.boolean().optional(),
    userIdentity: userIdentity().optional(),
    rerunOnNodeRebootAfterSuccess: z.boolean().optional(),
  });

const jobReleaseTask = () =>
  z.looseObject({
    id: z.string().max(64).optional(),
    commandLine: z.string(),
    resourceFiles: z.array(resourceFile()).optional(),
    environmentSettings: environmentSettings().optional(),
    maxWallClockTime: duration().optional(),
    retentionTime: duration().optional(),
    userIdentity: userIdentity().optional(),
  });

const jobManagerTask = () =>
  taskAddSchema.extend({
    killJobOnCompletion: z.boolean().optional(),
    runExclusive: z.boolean().optional(),
    allowLowPriorityNode: z.boolean().optional(),
  });

const jobAddSchema = z.looseObject({
  id: z.string(),
  displayName: z.string().max(1024).optional(),
  priority: priority().optional(),
  maxParallelTasks: integer().min(-1).optional(),
  allowTaskPreemption: z.boolean().optional(),
  constraints: constraints().optional(),
  poolInfo: poolInfo(),
  onAllTasksComplete: onAllTasksComplete().optional(),
  onTaskFailure: lowerEnum(['noaction', 'performexitoptionsjobaction']).optional(),
  usesTaskDependencies: z.boolean().optional(),
  commonEnvironmentSettings: environmentSettings().optional(),
  jobManagerTask: jobManagerTask().optional(),
  jobPreparationTask: jobPreparationTask().optional(),
  jobReleaseTask: jobReleaseTask().optional(),
  metadata: nameValuePairs().optional(),
});

export const jobAddBody = requestBody<JobSpec>('JobAddParameter', jobAddSchema);

export const jobTerminateBody = requestBody<{ terminateReason?: string }>('JobTerminateParameter', z.looseObject({ terminateReason: z.string().max(64).optional() }));

const jobChanges = {
  priority: priority().optional(),
  maxParallelTasks: integer().min(-1).optional(),
  allowTaskPreemption: z.boolean().optional(),
  constraints: constraints().optional(),
  metadata: nameValuePairs().optional(),
  onAllTasksComplete: onAllTasksComplete().optional(),
};

export const jobPatchBody = requestBody<JobChanges>('JobPatchParameter', z.object({ ...jobChanges, poolInfo: changedPoolInfo().optional() }));

export const jobUpdateBody = requestBody<JobChanges>('JobUpdateParameter', z.object({ ...jobChanges, poolInfo: changedPoolInfo() }));

export const jobDisableBody = requestBody<{ disableTasks: DisableJobOption }>('JobDisableParameter', z.object({ disableTasks: lowerEnum(['requeue', 'terminate', 'wait']) }));

/** A job schedule's jobSpecification: a job add without an id. */
const jobSpecificationSchema = jobAddSchema.omit({ id: true }) satisfies z.ZodType<JobSpecification>;

const schedule = () =>
  z.looseObject({
    doNotRunUntil: timestamp().optional(),
    doNotRunAfter: timestamp().optional(),
    startWindow: duration().optional(),
    recurrenceInterval: duration().optional(),
  });

export const jobScheduleAddBody = requestBody<JobScheduleSpec>(
  'JobScheduleAddParameter',
  z.looseObject({
    id: z.string(),
    displayName: z.string().max(1024).optional(),
    schedule: schedule(),
    jobSpecification: jobSpecificationSchema,
    metadata: nameValuePairs().optional(),
  }),
);

export const jobSchedulePatchBody = requestBody<JobScheduleChanges>(
  'JobSchedulePatchParameter',
  z.object({
    schedule: schedule().optional(),
    jobSpecification: jobSpecificationSchema.optional(),
    metadata: nameValuePairs().optional(),
  }),
);

export const jobScheduleUpdateBody = requestBody<JobScheduleChanges>(
  'JobScheduleUpdateParameter',
  z.object({
    schedule: schedule(),
    jobSpecification: jobSpecificationSchema,
    metadata: nameValuePairs().optional(),
  }),
);
