// Request bodies of the pool operations.

import { z } from 'zod';
import { duration, environmentSettings, integer, lowerEnum, nameValuePairs, resourceFile, userIdentity } from './validate.js';

const startTask = z.looseObject({
  commandLine: z.string(),
  resourceFiles: z.array(resourceFile()).optional(),
  environmentSettings: environmentSettings().optional(),
  userIdentity: userIdentity().optional(),
  maxTaskRetryCount: integer().min(-1).optional(),
  waitForSuccess: z.boolean().optional(),
});

export const poolAddSchema = z.looseObject({
  id: z.string(),
  displayName: z.string().max(1024).optional(),
  vmSize: z.string().min(1),
  virtualMachineConfiguration: z
    .looseObject({
      imageReference: z.looseObject({
        publisher: z.string().optional(),
        offer: z.string().optional(),
        sku: z.string().optional(),
        version: z.string().optional(),
        virtualMachineImageId: z.string().optional(),
      }),
      nodeAgentSKUId: z.string(),
    })
    .optional(),
  cloudServiceConfiguration: z.looseObject({ osFamily: z.string() }).optional(),
  resizeTimeout: duration().optional(),
  targetDedicatedNodes: integer().min(0).optional(),
  targetLowPriorityNodes: integer().min(0).optional(),
  enableAutoScale: z.boolean().optional(),
  autoScaleFormula: z.string().optional(),
  autoScaleEvaluationInterval: duration().optional(),
  enableInterNodeCommunication: z.boolean().optional(),
  startTask: startTask.optional(),
  taskSlotsPerNode: integer().min(1).max(256).optional(),
  taskSchedulingPolicy: z.looseObject({ nodeFillType: lowerEnum(['spread', 'pack']) }).optional(),
  metadata: nameValuePairs().optional(),
});

/** An auto pool's pool: a Pool_Add body without the id, which Batch assigns. */
export const poolSpecificationSchema = poolAddSchema.omit({ id: true });

const deallocationOption = lowerEnum(['requeue', 'terminate', 'taskcompletion', 'retaineddata']);

export const poolResizeSchema = z.looseObject({
  targetDedicatedNodes: integer().min(0).optional(),
  targetLowPriorityNodes: integer().min(0).optional(),
  resizeTimeout: duration().optional(),
  nodeDeallocationOption: deallocationOption.optional(),
});

const applicationPackageReferences = () => z.array(z.looseObject({ applicationId: z.string(), version: z.string().optional() }));
const certificateReferences = () =>
  z.array(z.looseObject({ thumbprint: z.string(), thumbprintAlgorithm: z.string(), storeLocation: z.string().optional(), visibility: z.array(z.string()).optional() }));
const nodeCommunicationMode = () => lowerEnum(['default', 'classic', 'simplified']);

export const poolPatchSchema = z.looseObject({
  startTask: startTask.optional(),
  certificateReferences: certificateReferences().optional(),
  applicationPackageReferences: applicationPackageReferences().optional(),
  metadata: nameValuePairs().optional(),
  targetNodeCommunicationMode: nodeCommunicationMode().optional(),
});

export const poolUpdatePropertiesSchema = z.looseObject({
  startTask: startTask.optional(),
  certificateReferences: certificateReferences(),
  applicationPackageReferences: applicationPackageReferences(),
  metadata: nameValuePairs(),
  targetNodeCommunicationMode: nodeCommunicationMode().optional(),
});

export const poolRemoveNodesSchema = z.looseObject({
  nodeList: z.array(z.string()).min(1).max(100, { message: 'At most 100 nodes can be removed in one request.' }),
  resizeTimeout: duration().optional(),
  nodeDeallocationOption: deallocationOption.optional(),
});

export const poolEnableAutoScaleSchema = z.looseObject({
  autoScaleFormula: z.string().optional(),
  autoScaleEvaluationInterval: duration().optional(),
});

export const poolEvaluateAutoScaleSchema = z.looseObject({ autoScaleFormula: z.string() });

/** What Pool_Patch also takes from 2024-07-01.20.0 (pools without nodes only). */
export const poolPatchEmptyPoolSchema = z.looseObject({
  displayName: z.string().max(1024).optional(),
  vmSize: z.string().min(1).optional(),
  taskSlotsPerNode: integer().min(1).max(256).optional(),
  taskSchedulingPolicy: z.looseObject({ nodeFillType: lowerEnum(['spread', 'pack']) }).optional(),
  enableInterNodeCommunication: z.boolean().optional(),
  virtualMachineConfiguration: z.looseObject({ imageReference: z.looseObject({}), nodeAgentSKUId: z.string() }).optional(),
  networkConfiguration: z.looseObject({}).optional(),
  userAccounts: z.array(z.looseObject({ name: z.string(), password: z.string().optional() })).optional(),
  mountConfiguration: z.array(z.looseObject({})).optional(),
  upgradePolicy: z.looseObject({ mode: z.string() }).optional(),
  resourceTags: z.record(z.string(), z.string()).optional(),
});
