// Request bodies of the job operations.

import { z } from 'zod';
import { duration, environmentSettings, integer, lowerEnum, nameValuePairs } from './validate.js';

export const jobAddSchema = z.looseObject({
  id: z.string(),
  displayName: z.string().max(1024).optional(),
  priority: integer().min(-1000).max(1000).optional(),
  maxParallelTasks: integer().min(-1).optional(),
  allowTaskPreemption: z.boolean().optional(),
  constraints: z.looseObject({ maxWallClockTime: duration().optional(), maxTaskRetryCount: integer().min(-1).optional() }).optional(),
  poolInfo: z.looseObject({ poolId: z.string().optional(), autoPoolSpecification: z.looseObject({}).optional() }),
  onAllTasksComplete: lowerEnum(['noaction', 'terminatejob']).optional(),
  onTaskFailure: lowerEnum(['noaction', 'performexitoptionsjobaction']).optional(),
  usesTaskDependencies: z.boolean().optional(),
  commonEnvironmentSettings: environmentSettings().optional(),
  metadata: nameValuePairs().optional(),
});

export const jobTerminateSchema = z.looseObject({ terminateReason: z.string().max(64).optional() });
