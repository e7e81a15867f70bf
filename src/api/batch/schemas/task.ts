// Request bodies of the task operations, typed against core's TaskSpec and
// checked against @azure/batch's models first (validate.ts).

import { z } from 'zod';
import type { TaskConstraints, TaskSpec } from '../../../core/task.js';
import { duration, environmentSettings, integer, lowerEnum, requestBody, resourceFile, userIdentity } from './validate.js';

const taskConstraints = () =>
  z.looseObject({ maxWallClockTime: duration().optional(), retentionTime: duration().optional(), maxTaskRetryCount: integer().min(-1).optional() });

const exitOptions = () =>
  z.looseObject({
    jobAction: lowerEnum(['none', 'disable', 'terminate']).optional(),
    dependencyAction: lowerEnum(['satisfy', 'block']).optional(),
  });

const exitConditions = () =>
  z.looseObject({
    exitCodes: z.array(z.looseObject({ code: integer(), exitOptions: exitOptions() })).optional(),
    exitCodeRanges: z.array(z.looseObject({ start: integer(), end: integer(), exitOptions: exitOptions() })).optional(),
    preProcessingError: exitOptions().optional(),
    fileUploadError: exitOptions().optional(),
    default: exitOptions().optional(),
  });

const outputFile = () =>
  z.looseObject({
    filePattern: z.string().min(1).max(1024),
    destination: z.looseObject({
      container: z.looseObject({
        containerUrl: z.string().url(),
        path: z.string().max(1024).optional(),
        uploadHeaders: z.array(z.looseObject({ name: z.string().min(1), value: z.string().optional() })).optional(),
      }),
    }),
    uploadOptions: z.looseObject({ uploadCondition: lowerEnum(['tasksuccess', 'taskfailure', 'taskcompletion']) }),
  });

export const taskAddSchema = z.looseObject({
  id: z.string(),
  displayName: z.string().max(1024).optional(),
  commandLine: z.string(),
  resourceFiles: z.array(resourceFile()).optional(),
  outputFiles: z.array(outputFile()).optional(),
  exitConditions: exitConditions().optional(),
  environmentSettings: environmentSettings().optional(),
  constraints: taskConstraints().optional(),
  requiredSlots: integer().min(1).optional(),
  userIdentity: userIdentity().optional(),
  dependsOn: z
    .looseObject({
      taskIds: z.array(z.string()).optional(),
      taskIdRanges: z.array(z.looseObject({ start: integer(), end: integer() })).optional(),
    })
    .optional(),
});

export const taskAddBody = requestBody<TaskSpec>('TaskAddParameter', taskAddSchema);

export const taskCollectionBody = requestBody<{ value: TaskSpec[] }>(
  'TaskAddCollectionParameter',
  z.looseObject({
    value: z.array(taskAddSchema).max(100, { message: 'A collection holds at most 100 tasks.' }),
  }),
);

export const taskUpdateBody = requestBody<{ constraints?: Partial<TaskConstraints> }>('TaskUpdateParameter', z.object({ constraints: taskConstraints().optional() }));
