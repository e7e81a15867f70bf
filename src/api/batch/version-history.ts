// What each Batch API version before the primary one (2022-10-01.16.0) had
// that the primary one does not, and the reverse: the properties added,
// removed or renamed, and the defaults that changed, by model. Models are
// named as @azure/batch's mappers name them (CloudPool, PoolAddParameter…),
// so version-gate.ts can find them by walking a body with those mappers.
//
// Read from the stable BatchService.json of each version in
// Azure/azure-rest-api-specs, through the clients AutoRest generated from
// them (scripts/diff-batch-client-models.mjs over @azure/batch 6.0.0 =
// 2018-08-01.7.0, 7.0.0 = 2018-12-01.8.0, 8.0.0 = 2020-09-01.12.0, 10.2.0 =
// 2022-10-01.16.0 and azure-batch 9.0.0 = 2020-03-01.11.0); the versions
// between those (9.0, 10.0, 14.0, 15.0) and the later ones as the Batch
// clients' change logs date each change. Operations added or removed are
// the routes' own `since`/`until`.

import type { ApiVersion } from './versions.js';

export interface PropertyHistory {
  /** The models that carry the property. */
  models: readonly string[];
  /** Its wire name from `since` on. */
  property: string;
  /** The first version that has it; absent for one every accepted version had. */
  since?: ApiVersion;
  /** The first version that no longer has it. */
  until?: ApiVersion;
  /** The wire name the same property had before `since`. */
  formerly?: string;
}

const POOL_SPECS = ['CloudPool', 'PoolAddParameter', 'PoolSpecification'] as const;
const JOB_SPECS = ['CloudJob', 'JobAddParameter', 'JobSpecification', 'JobPatchParameter', 'JobUpdateParameter'] as const;

/**
 * A property with several entries is there in each version one of them
 * covers (osDisk went away in 2018-12-01.8.0 and came back, reshaped, in
 * 2021-06-01.14.0).
 */
export const PROPERTY_HISTORY: readonly PropertyHistory[] = [
  // 2018-12-01.8.0: resource files from any URL or a whole container; blobSource became httpUrl.
  { models: ['ResourceFile'], property: 'httpUrl', since: '2018-12-01.8.0', formerly: 'blobSource' },
  { models: ['ResourceFile'], property: 'storageContainerUrl', since: '2018-12-01.8.0' },
  { models: ['ResourceFile'], property: 'autoStorageContainerName', since: '2018-12-01.8.0' },
  { models: ['ResourceFile'], property: 'blobPrefix', since: '2018-12-01.8.0' },
  { models: ['CloudJob', 'JobAddParameter', 'JobSpecification'], property: 'networkConfiguration', since: '2018-12-01.8.0' },
  { models: ['NetworkConfiguration'], property: 'dynamicVNetAssignmentScope', since: '2018-12-01.8.0' },
  { models: ['UserAccount'], property: 'windowsUserConfiguration', since: '2018-12-01.8.0' },
  { models: ['VirtualMachineConfiguration'], property: 'osDisk', until: '2018-12-01.8.0' },
  { models: ['VirtualMachineConfiguration'], property: 'osDisk', since: '2021-06-01.14.0' },
  { models: ['OSDisk'], property: 'caching', until: '2018-12-01.8.0' },
  { models: ['OSDisk'], property: 'caching', since: '2023-11-01.18.0' },
  { models: ['OSDisk'], property: 'ephemeralOSDiskSettings', since: '2021-06-01.14.0' },
  // 2019-06-01.9.0
  { models: ['NetworkSecurityGroupRule'], property: 'sourcePortRanges', since: '2019-06-01.9.0' },
  { models: ['TaskContainerSettings'], property: 'workingDirectory', since: '2019-06-01.9.0' },
  // 2019-08-01.10.0: mounts; public IPs on the network configuration, moved in 2020-03-01.11.0.
  { models: POOL_SPECS, property: 'mountConfiguration', since: '2019-08-01.10.0' },
  { models: ['NetworkConfiguration'], property: 'publicIPs', since: '2019-08-01.10.0', until: '2020-03-01.11.0' },
  // 2020-03-01.11.0
  { models: ['VirtualMachineConfiguration'], property: 'diskEncryptionConfiguration', since: '2020-03-01.11.0' },
  { models: ['NetworkConfiguration'], property: 'publicIPAddressConfiguration', since: '2020-03-01.11.0' },
  // 2020-09-01.12.0: task slots; maxTasksPerNode became taskSlotsPerNode.
  { models: POOL_SPECS, property: 'taskSlotsPerNode', since: '2020-09-01.12.0', formerly: 'maxTasksPerNode' },
  { models: ['CloudTask', 'TaskAddParameter', 'JobManagerTask'], property: 'requiredSlots', since: '2020-09-01.12.0' },
  { models: ['ComputeNode'], property: 'runningTaskSlotsCount', since: '2020-09-01.12.0' },
  // 2021-06-01.14.0: managed identities, VM extensions, placement, maxParallelTasks.
  {
    models: ['AzureBlobFileSystemConfiguration', 'ContainerRegistry', 'OutputFileBlobContainerDestination', 'ResourceFile', 'UploadBatchServiceLogsConfiguration'],
    property: 'identityReference',
    since: '2021-06-01.14.0',
  },
  { models: ['CloudPool'], property: 'identity', since: '2021-06-01.14.0' },
  { models: ['VirtualMachineConfiguration'], property: 'extensions', since: '2021-06-01.14.0' },
  { models: ['VirtualMachineConfiguration'], property: 'nodePlacementConfiguration', since: '2021-06-01.14.0' },
  { models: JOB_SPECS, property: 'maxParallelTasks', since: '2021-06-01.14.0' },
  { models: ['ComputeNode'], property: 'virtualMachineInfo', since: '2021-06-01.14.0' },
  { models: ['ImageReference'], property: 'exactVersion', since: '2021-06-01.14.0' },
  // 2022-01-01.15.0
  { models: ['OutputFileBlobContainerDestination'], property: 'uploadHeaders', since: '2022-01-01.15.0' },
  { models: JOB_SPECS, property: 'allowTaskPreemption', since: '2022-01-01.15.0' },
  // 2022-10-01.16.0
  { models: [...POOL_SPECS, 'PoolPatchParameter', 'PoolUpdatePropertiesParameter'], property: 'targetNodeCommunicationMode', since: '2022-10-01.16.0' },
  { models: ['CloudPool'], property: 'currentNodeCommunicationMode', since: '2022-10-01.16.0' },
  // Later versions, as far as Lapis stores them; the primary and later versions are answered with their union.
  { models: ['NetworkConfiguration'], property: 'enableAcceleratedNetworking', since: '2023-05-01.17.0' },
  { models: ['VMExtension'], property: 'enableAutomaticUpgrade', since: '2023-05-01.17.0' },
  { models: ['ContainerConfiguration'], property: 'type', since: '2023-05-01.17.0' },
  { models: POOL_SPECS, property: 'resourceTags', since: '2023-11-01.18.0' },
  { models: ['VirtualMachineConfiguration'], property: 'securityProfile', since: '2023-11-01.18.0' },
  { models: ['VirtualMachineConfiguration'], property: 'serviceArtifactReference', since: '2023-11-01.18.0' },
  { models: POOL_SPECS, property: 'upgradePolicy', since: '2024-02-01.19.0' },
  { models: ['TaskContainerSettings'], property: 'containerHostBatchBindMounts', since: '2024-07-01.20.0' },
];

export interface DefaultHistory {
  /** The models whose property took another default. */
  models: readonly string[];
  /** Where the property sits in the model: one name, or a path through nested objects. */
  path: readonly string[];
  /** The default of the versions before `until`. */
  value: unknown;
  /** The first version with today's default. */
  until: ApiVersion;
}

/** A value Batch writes for "no limit". */
const UNLIMITED = 'P10675199DT2H48M5.4775807S';

export const DEFAULT_HISTORY: readonly DefaultHistory[] = [
  // 2018-12-01.8.0: "The default task retention time for all tasks is now 7 days, previously it was infinite."
  { models: ['TaskAddParameter', 'JobManagerTask'], path: ['constraints', 'retentionTime'], value: UNLIMITED, until: '2018-12-01.8.0' },
  // 2019-08-01.10.0: "the default value for waitForSuccess on StartTask is now true (was false)".
  { models: ['StartTask'], path: ['waitForSuccess'], value: false, until: '2019-08-01.10.0' },
];
