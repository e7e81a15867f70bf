// Request bodies of the pool operations, each typed against core's type for
// it and checked against @azure/batch's model first (validate.ts).

import { z } from 'zod';
import type { AutoScaleSettings } from '../../../core/autoscale-settings.js';
import type { EmptyPoolChanges, PoolPropertyChanges, PoolSpec, ResizeRequest } from '../../../core/pool.js';
import type { NodeRemovalRequest } from '../../../services/node-service.js';
import { duration, environmentSettings, integer, lowerEnum, nameValuePairs, requestBody, resourceFile, userIdentity } from './validate.js';

const startTask = z.looseObject({
  commandLine: z.string(),
  resourceFiles: z.array(resourceFile()).optional(),
  environmentSettings: environmentSettings().optional(),
  userIdentity: userIdentity().optional(),
  maxTaskRetryCount: integer().min(-1).optional(),
  waitForSuccess: z.boolean().optional(),
});

const identityReference = () => z.looseObject({ resourceId: z.string().optional() });

/**
 * A pool's networkConfiguration (NetworkConfiguration in the spec): stored
 * and returned, not acted on (local nodes have no virtual network).
 */
const networkConfiguration = () =>
  z.looseObject({
    subnetId: z.string().optional(),
    dynamicVNetAssignmentScope: lowerEnum(['none', 'job']).optional(),
    endpointConfiguration: z
      .looseObject({
        inboundNATPools: z
          .array(
            z
              .looseObject({
                name: z
                  .string()
                  .max(77)
                  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/, {
                    message: 'The name holds letters, digits, underscores, periods and hyphens, starts with a letter or digit and ends with a letter, digit or underscore.',
                  }),
                protocol: lowerEnum(['tcp', 'udp']),
                backendPort: integer()
                  .min(1)
                  .max(65535)
                  .refine((port) => ![22, 3389, 29876, 29877].includes(port), { message: 'Ports 22, 3389, 29876 and 29877 are reserved.' }),
                frontendPortRangeStart: integer().min(1).max(65534),
                frontendPortRangeEnd: integer().min(1).max(65534),
                networkSecurityGroupRules: z
                  .array(
                    z.looseObject({
                      priority: integer().min(150).max(4096),
                      access: lowerEnum(['allow', 'deny']),
                      sourceAddressPrefix: z.string().min(1),
                      sourcePortRanges: z.array(z.string()).optional(),
                    }),
                  )
                  .max(25, { message: 'A NAT pool has at most 25 network security group rules.' })
                  .optional(),
              })
              .refine((pool) => pool.frontendPortRangeEnd >= pool.frontendPortRangeStart, {
                path: ['frontendPortRangeEnd'],
                message: 'The range must end at or after its start.',
              }),
          )
          .max(5, { message: 'A pool has at most 5 inbound NAT pools.' }),
      })
      .optional(),
    publicIPAddressConfiguration: z
      .looseObject({
        provision: lowerEnum(['batchmanaged', 'usermanaged', 'nopublicipaddresses']).optional(),
        ipAddressIds: z.array(z.string()).optional(),
      })
      .optional(),
  });

const relativeMountPath = () => z.string().min(1);

/**
 * One entry of a pool's mountConfiguration (MountConfiguration in the spec):
 * exactly one file system. Stored and returned, not mounted.
 */
const mountConfiguration = () =>
  z
    .looseObject({
      azureBlobFileSystemConfiguration: z
        .looseObject({
          accountName: z.string().min(1),
          containerName: z.string().min(1),
          accountKey: z.string().optional(),
          sasKey: z.string().optional(),
          blobfuseOptions: z.string().optional(),
          relativeMountPath: relativeMountPath(),
          identityReference: identityReference().optional(),
        })
        .refine((blob) => [blob.accountKey, blob.sasKey, blob.identityReference].filter((key) => key !== undefined).length === 1, {
          message: 'Exactly one of accountKey, sasKey or identityReference must be specified.',
        })
        .optional(),
      nfsMountConfiguration: z.looseObject({ source: z.string().min(1), relativeMountPath: relativeMountPath(), mountOptions: z.string().optional() }).optional(),
      cifsMountConfiguration: z
        .looseObject({
          username: z.string().min(1),
          source: z.string().min(1),
          relativeMountPath: relativeMountPath(),
          mountOptions: z.string().optional(),
          password: z.string(),
        })
        .optional(),
      azureFileShareConfiguration: z
        .looseObject({
          accountName: z.string().min(1),
          azureFileUrl: z.string().min(1),
          accountKey: z.string(),
          relativeMountPath: relativeMountPath(),
          mountOptions: z.string().optional(),
        })
        .optional(),
    })
    .refine(
      (mount) =>
        [mount.azureBlobFileSystemConfiguration, mount.nfsMountConfiguration, mount.cifsMountConfiguration, mount.azureFileShareConfiguration].filter(
          (system) => system !== undefined,
        ).length === 1,
      { message: 'Exactly one of azureBlobFileSystemConfiguration, nfsMountConfiguration, cifsMountConfiguration or azureFileShareConfiguration must be specified.' },
    );

const poolAddSchema = z.looseObject({
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
  networkConfiguration: networkConfiguration().optional(),
  mountConfiguration: z.array(mountConfiguration()).optional(),
  metadata: nameValuePairs().optional(),
});

export const poolAddBody = requestBody<PoolSpec>('PoolAddParameter', poolAddSchema);

/** An auto pool's pool: a Pool_Add body without the id, which Batch assigns. */
export const poolSpecificationSchema = poolAddSchema.omit({ id: true }) satisfies z.ZodType<Omit<PoolSpec, 'id'>>;

const deallocationOption = lowerEnum(['requeue', 'terminate', 'taskcompletion', 'retaineddata']);

const poolResizeSchema = z.looseObject({
  targetDedicatedNodes: integer().min(0).optional(),
  targetLowPriorityNodes: integer().min(0).optional(),
  resizeTimeout: duration().optional(),
  nodeDeallocationOption: deallocationOption.optional(),
});

export const poolResizeBody = requestBody<ResizeRequest>('PoolResizeParameter', poolResizeSchema);

const applicationPackageReferences = () => z.array(z.looseObject({ applicationId: z.string(), version: z.string().optional() }));
const certificateReferences = () =>
  z.array(z.looseObject({ thumbprint: z.string(), thumbprintAlgorithm: z.string(), storeLocation: z.string().optional(), visibility: z.array(z.string()).optional() }));
const nodeCommunicationMode = () => lowerEnum(['default', 'classic', 'simplified']);

const poolPatchSchema = z.looseObject({
  startTask: startTask.optional(),
  certificateReferences: certificateReferences().optional(),
  applicationPackageReferences: applicationPackageReferences().optional(),
  metadata: nameValuePairs().optional(),
  targetNodeCommunicationMode: nodeCommunicationMode().optional(),
});

export const poolPatchBody = requestBody<PoolPropertyChanges>('PoolPatchParameter', poolPatchSchema);

const poolUpdatePropertiesSchema = z.looseObject({
  startTask: startTask.optional(),
  certificateReferences: certificateReferences(),
  applicationPackageReferences: applicationPackageReferences(),
  metadata: nameValuePairs(),
  targetNodeCommunicationMode: nodeCommunicationMode().optional(),
});

export const poolUpdatePropertiesBody = requestBody<PoolPropertyChanges>('PoolUpdatePropertiesParameter', poolUpdatePropertiesSchema);

const poolRemoveNodesSchema = z.looseObject({
  nodeList: z.array(z.string()).min(1).max(100, { message: 'At most 100 nodes can be removed in one request.' }),
  resizeTimeout: duration().optional(),
  nodeDeallocationOption: deallocationOption.optional(),
});

export const poolRemoveNodesBody = requestBody<NodeRemovalRequest>('NodeRemoveParameter', poolRemoveNodesSchema);

export const poolEnableAutoScaleBody = requestBody<AutoScaleSettings>(
  'PoolEnableAutoScaleParameter',
  z.looseObject({
    autoScaleFormula: z.string().optional(),
    autoScaleEvaluationInterval: duration().optional(),
  }),
);

export const poolEvaluateAutoScaleBody = requestBody<{ autoScaleFormula: string }>('PoolEvaluateAutoScaleParameter', z.looseObject({ autoScaleFormula: z.string() }));

/** What Pool_Patch also takes from 2024-07-01.20.0 (pools without nodes only). */
const poolPatchEmptyPoolSchema = z.looseObject({
  displayName: z.string().max(1024).optional(),
  vmSize: z.string().min(1).optional(),
  taskSlotsPerNode: integer().min(1).max(256).optional(),
  taskSchedulingPolicy: z.looseObject({ nodeFillType: lowerEnum(['spread', 'pack']) }).optional(),
  enableInterNodeCommunication: z.boolean().optional(),
  virtualMachineConfiguration: z.looseObject({ imageReference: z.looseObject({}), nodeAgentSKUId: z.string() }).optional(),
  networkConfiguration: networkConfiguration().optional(),
  userAccounts: z.array(z.looseObject({ name: z.string(), password: z.string().optional() })).optional(),
  mountConfiguration: z.array(mountConfiguration()).optional(),
  upgradePolicy: z.looseObject({ mode: z.string() }).optional(),
  resourceTags: z.record(z.string(), z.string()).optional(),
});

/** The wider Pool_Patch body of 2024-07-01.20.0, which the 2022-10-01.16.0 client has no model of. */
export const poolPatchEmptyPoolBody = requestBody<EmptyPoolChanges>(undefined, poolPatchEmptyPoolSchema);
