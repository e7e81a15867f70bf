// A Batch pool: its wire shape and the transitions of its two state machines.
//
//   state:            active ──delete──▶ deleting ──(nodes gone)──▶ (removed)
//
//   allocationState:  steady ──resize / add──▶ resizing ──(target reached)──▶ steady
//                                                 │
//                                            stopResize
//                                                 ▼
//                                             stopping ──(nodes settled)──▶ steady

import type { ApplicationPackageReference, EnvironmentSetting, NameValuePair, ResourceFile, UserIdentity, Versioned } from './common.js';
import { batchErrors } from './errors.js';
import { checkContainerConfiguration, checkTaskContainerSettings, type ContainerConfiguration, type TaskContainerSettings } from './container-settings.js';
import { creationStamps } from './lifecycle.js';
import { checkFormula, checkInterval, DEFAULT_AUTOSCALE_INTERVAL, type AutoScaleRun } from './autoscale-settings.js';
import { formatTimestamp } from './time.js';

export type PoolState = 'active' | 'deleting';
export type AllocationState = 'steady' | 'resizing' | 'stopping';
export type NodeFillType = 'spread' | 'pack';
export type ComputeNodeDeallocationOption = 'requeue' | 'terminate' | 'taskcompletion' | 'retaineddata';

export interface ImageReference {
  publisher?: string;
  offer?: string;
  sku?: string;
  version?: string;
  virtualMachineImageId?: string;
  exactVersion?: string;
}

export interface VirtualMachineConfiguration {
  imageReference: ImageReference;
  nodeAgentSKUId: string;
  containerConfiguration?: ContainerConfiguration;
  [extra: string]: unknown;
}

export interface StartTask {
  commandLine: string;
  resourceFiles?: ResourceFile[];
  environmentSettings?: EnvironmentSetting[];
  userIdentity?: UserIdentity;
  maxTaskRetryCount?: number;
  waitForSuccess?: boolean;
  containerSettings?: TaskContainerSettings;
  [extra: string]: unknown;
}

export interface ResizeError {
  code: string;
  message: string;
  values?: NameValuePair[];
}

/** What a client may set when adding a pool (validated by the API layer). */
export interface PoolSpec {
  id: string;
  displayName?: string;
  vmSize: string;
  virtualMachineConfiguration?: VirtualMachineConfiguration;
  cloudServiceConfiguration?: Record<string, unknown>;
  resizeTimeout?: string;
  targetDedicatedNodes?: number;
  targetLowPriorityNodes?: number;
  enableAutoScale?: boolean;
  autoScaleFormula?: string;
  autoScaleEvaluationInterval?: string;
  enableInterNodeCommunication?: boolean;
  startTask?: StartTask;
  applicationPackageReferences?: ApplicationPackageReference[];
  taskSlotsPerNode?: number;
  taskSchedulingPolicy?: { nodeFillType: NodeFillType };
  metadata?: NameValuePair[];
  [extra: string]: unknown;
}

export interface Pool extends Versioned {
  id: string;
  displayName?: string;
  creationTime: string;
  state: PoolState;
  stateTransitionTime: string;
  allocationState: AllocationState;
  allocationStateTransitionTime: string;
  vmSize: string;
  resizeTimeout: string;
  resizeErrors?: ResizeError[];
  currentDedicatedNodes: number;
  currentLowPriorityNodes: number;
  targetDedicatedNodes: number;
  targetLowPriorityNodes: number;
  enableAutoScale: boolean;
  enableInterNodeCommunication: boolean;
  taskSlotsPerNode: number;
  taskSchedulingPolicy: { nodeFillType: NodeFillType };
  virtualMachineConfiguration?: VirtualMachineConfiguration;
  startTask?: StartTask;
  metadata?: NameValuePair[];
  autoScaleFormula?: string;
  autoScaleEvaluationInterval?: string;
  autoScaleRun?: AutoScaleRun;
  [extra: string]: unknown;
}

/** Lapis's own about a pool, kept beside its wire document (never answered). */
export interface PoolInternal {
  /** How nodes leave in the resize under way. */
  resizeDeallocationOption?: ComputeNodeDeallocationOption;
}

/** A pool and its internal part, as a transition that may start a resize returns them. */
export interface PoolWithInternal {
  pool: Pool;
  internal: PoolInternal;
}

export const DEFAULT_RESIZE_TIMEOUT = 'PT15M';

export interface PoolCreationOptions {
  minAutoScaleIntervalMs: number;
  /** Why this server cannot run container pools (no working engine, or container nodes), asked only of a container pool; undefined: it can. */
  containerPoolRefusal?: () => string | undefined;
}

export function createPool(spec: PoolSpec, now: Date, eTag: string, options: PoolCreationOptions): Pool {
  if (spec.enableAutoScale) {
    for (const target of ['targetDedicatedNodes', 'targetLowPriorityNodes'] as const) {
      if (spec[target] !== undefined) throw batchErrors.invalidPropertyValue(target, 'Targets must not be set when enableAutoScale is true: the formula sets them.');
    }
    if (!spec.autoScaleFormula) throw batchErrors.missingRequiredProperty('autoScaleFormula');
    checkFormula(spec.autoScaleFormula);
    checkInterval(spec.autoScaleEvaluationInterval ?? DEFAULT_AUTOSCALE_INTERVAL, options.minAutoScaleIntervalMs);
  } else if (spec.targetDedicatedNodes === undefined && spec.targetLowPriorityNodes === undefined) {
    throw batchErrors.missingRequiredProperty('targetDedicatedNodes');
  }
  if (!spec.virtualMachineConfiguration && !spec.cloudServiceConfiguration) {
    throw batchErrors.missingRequiredProperty('virtualMachineConfiguration');
  }
  const containers = spec.virtualMachineConfiguration?.containerConfiguration;
  if (containers) {
    checkContainerConfiguration(containers, 'virtualMachineConfiguration.containerConfiguration');
    const refusal = options.containerPoolRefusal?.();
    if (refusal) throw batchErrors.containerPoolsUnavailable(refusal);
  }
  checkStartTaskContainer(spec.startTask);
  refuseMounts(spec.mountConfiguration);
  const stamps = creationStamps(now, eTag);
  return {
    ...spec,
    ...stamps,
    id: spec.id,
    allocationState: 'resizing',
    allocationStateTransitionTime: stamps.creationTime,
    vmSize: spec.vmSize.toLowerCase(),
    resizeTimeout: spec.resizeTimeout ?? DEFAULT_RESIZE_TIMEOUT,
    currentDedicatedNodes: 0,
    currentLowPriorityNodes: 0,
    targetDedicatedNodes: spec.targetDedicatedNodes ?? 0,
    targetLowPriorityNodes: spec.targetLowPriorityNodes ?? 0,
    enableAutoScale: spec.enableAutoScale ?? false,
    ...(spec.enableAutoScale
      ? { autoScaleFormula: spec.autoScaleFormula, autoScaleEvaluationInterval: spec.autoScaleEvaluationInterval ?? DEFAULT_AUTOSCALE_INTERVAL }
      : { autoScaleFormula: undefined, autoScaleEvaluationInterval: undefined }),
    enableInterNodeCommunication: spec.enableInterNodeCommunication ?? false,
    taskSlotsPerNode: spec.taskSlotsPerNode ?? 1,
    taskSchedulingPolicy: spec.taskSchedulingPolicy ?? { nodeFillType: 'spread' },
  };
}

function refuseMounts(mountConfiguration: unknown): void {
  if (Array.isArray(mountConfiguration) && mountConfiguration.length > 0) throw batchErrors.mountsNotSupported('mountConfiguration');
}

/** A start task's containerSettings, when it has them (on a pool without containerConfiguration it fails on its node, as on Batch). */
export function checkStartTaskContainer(startTask: StartTask | undefined): void {
  if (startTask?.containerSettings) checkTaskContainerSettings(startTask.containerSettings, 'startTask.containerSettings');
}

function touch(pool: Pool, now: Date, eTag: string): Pool {
  return { ...pool, eTag, lastModified: formatTimestamp(now) };
}

function assertNotDeleting(pool: Pool): void {
  if (pool.state === 'deleting') throw batchErrors.poolBeingDeleted();
}

export interface ResizeRequest {
  targetDedicatedNodes?: number;
  targetLowPriorityNodes?: number;
  resizeTimeout?: string;
  nodeDeallocationOption?: ComputeNodeDeallocationOption;
}

export function resizePool(pool: Pool, request: ResizeRequest, now: Date, eTag: string): PoolWithInternal {
  assertNotDeleting(pool);
  if (pool.enableAutoScale) throw batchErrors.autoScaleEnabled();
  return beginResize(pool, request, now, eTag);
}

function beginResize(pool: Pool, request: ResizeRequest, now: Date, eTag: string): PoolWithInternal {
  if (pool.allocationState !== 'steady') throw batchErrors.poolBeingResized();
  return withTargets(pool, request, now, eTag);
}

/** New targets and a resize toward them; the internal part records how nodes leave in it. */
function withTargets(pool: Pool, request: ResizeRequest, now: Date, eTag: string): PoolWithInternal {
  const time = formatTimestamp(now);
  const { resizeErrors: _dropped, ...rest } = pool;
  return {
    pool: {
      ...touch(rest as Pool, now, eTag),
      allocationState: 'resizing',
      allocationStateTransitionTime: time,
      targetDedicatedNodes: request.targetDedicatedNodes ?? pool.targetDedicatedNodes,
      targetLowPriorityNodes: request.targetLowPriorityNodes ?? pool.targetLowPriorityNodes,
      resizeTimeout: request.resizeTimeout ?? pool.resizeTimeout,
    },
    internal: { resizeDeallocationOption: request.nodeDeallocationOption ?? 'requeue' },
  };
}

/** Pool_RemoveNodes: the pool shrinks by the nodes named; like a resize, only from steady. */
export function beginNodeRemoval(
  pool: Pool,
  removed: { dedicated: number; lowPriority: number },
  request: { resizeTimeout?: string; nodeDeallocationOption?: ComputeNodeDeallocationOption },
  now: Date,
  eTag: string,
): PoolWithInternal {
  assertNotDeleting(pool);
  return beginResize(
    pool,
    {
      targetDedicatedNodes: Math.max(0, pool.targetDedicatedNodes - removed.dedicated),
      targetLowPriorityNodes: Math.max(0, pool.targetLowPriorityNodes - removed.lowPriority),
      resizeTimeout: request.resizeTimeout,
      nodeDeallocationOption: request.nodeDeallocationOption,
    },
    now,
    eTag,
  );
}

/** stopResize: the pool keeps the nodes it has; Batch records ResizeStopped. */
export function stopPoolResize(pool: Pool, now: Date, eTag: string): Pool {
  assertNotDeleting(pool);
  if (pool.allocationState !== 'resizing') throw batchErrors.poolNotResizing();
  const time = formatTimestamp(now);
  return {
    ...touch(pool, now, eTag),
    allocationState: 'stopping',
    allocationStateTransitionTime: time,
    resizeErrors: [{ code: 'ResizeStopped', message: 'Desired number of dedicated nodes could not be allocated due to a stop resize operation' }],
  };
}

export function markPoolDeleting(pool: Pool, now: Date, eTag: string): Pool {
  assertNotDeleting(pool);
  const time = formatTimestamp(now);
  return { ...touch(pool, now, eTag), state: 'deleting', stateTransitionTime: time, allocationState: 'resizing', allocationStateTransitionTime: time };
}

/** The node counts a pool's allocation is heading for. */
export function allocationTargets(pool: Pool): { dedicated: number; lowPriority: number } {
  if (pool.state === 'deleting') return { dedicated: 0, lowPriority: 0 };
  return { dedicated: pool.targetDedicatedNodes, lowPriority: pool.targetLowPriorityNodes };
}

/**
 * Records the current node counts; a resize that reached its targets (or was
 * stopped) settles to steady. A stopped resize keeps its targets, as Batch does:
 * only a resizing pool is grown or shrunk.
 */
export function recordAllocation(
  pool: Pool,
  current: { dedicated: number; lowPriority: number },
  settled: boolean,
  now: Date,
  eTag: string,
): Pool {
  const next: Pool = { ...touch(pool, now, eTag), currentDedicatedNodes: current.dedicated, currentLowPriorityNodes: current.lowPriority };
  if (settled && pool.allocationState !== 'steady' && pool.state !== 'deleting') {
    next.allocationState = 'steady';
    next.allocationStateTransitionTime = formatTimestamp(now);
  }
  return next;
}

/** What Pool_Patch (merge) and Pool_UpdateProperties (replace) may change. */
export interface PoolPropertyChanges {
  startTask?: StartTask;
  certificateReferences?: unknown[];
  applicationPackageReferences?: ApplicationPackageReference[];
  metadata?: NameValuePair[];
  targetNodeCommunicationMode?: string;
}

const REPLACEABLE = ['startTask', 'certificateReferences', 'applicationPackageReferences', 'metadata', 'targetNodeCommunicationMode'] as const;

/** Batch returns no empty lists; a property set to [] is removed. */
function setOrRemove(pool: Pool, name: (typeof REPLACEABLE)[number], value: unknown): void {
  const fields = pool as Record<string, unknown>;
  if (value === undefined || (Array.isArray(value) && value.length === 0)) delete fields[name];
  else fields[name] = value;
}

/** What Pool_Patch may also change from 2024-07-01.20.0, while the pool has no nodes. */
export const EMPTY_POOL_PATCHABLE = [
  'displayName',
  'vmSize',
  'taskSlotsPerNode',
  'taskSchedulingPolicy',
  'enableInterNodeCommunication',
  'virtualMachineConfiguration',
  'networkConfiguration',
  'userAccounts',
  'mountConfiguration',
  'upgradePolicy',
  'resourceTags',
] as const;

export type EmptyPoolChanges = Partial<Record<(typeof EMPTY_POOL_PATCHABLE)[number], unknown>>;

/**
 * Pool_Patch: only the properties the request names change. A start task
 * change applies to nodes as they next join, reboot or are reimaged. The
 * properties of `emptyPoolChanges` (2024-07-01.20.0) change only while the
 * pool has no nodes.
 */
export function patchPool(pool: Pool, changes: PoolPropertyChanges, now: Date, eTag: string, emptyPoolChanges: EmptyPoolChanges = {}): Pool {
  assertNotDeleting(pool);
  const next = touch(pool, now, eTag);
  for (const name of REPLACEABLE) {
    if (changes[name] !== undefined) setOrRemove(next, name, changes[name]);
  }
  const named = EMPTY_POOL_PATCHABLE.filter((name) => emptyPoolChanges[name] !== undefined);
  if (named.length > 0) {
    const hasNodes = pool.currentDedicatedNodes + pool.currentLowPriorityNodes + pool.targetDedicatedNodes + pool.targetLowPriorityNodes > 0;
    if (hasNodes) throw batchErrors.poolNotEmpty(named);
    refuseMounts(emptyPoolChanges.mountConfiguration);
    const fields = next as Record<string, unknown>;
    for (const name of named) fields[name] = name === 'vmSize' ? String(emptyPoolChanges[name]).toLowerCase() : emptyPoolChanges[name];
  }
  return next;
}

/** Pool_UpdateProperties: the properties are replaced; what the request omits is removed. */
export function updatePoolProperties(pool: Pool, changes: PoolPropertyChanges, now: Date, eTag: string): Pool {
  assertNotDeleting(pool);
  const next = touch(pool, now, eTag);
  for (const name of REPLACEABLE) setOrRemove(next, name, changes[name]);
  return next;
}

/**
 * Records an autoscale run. Its targets take effect when the pool is steady
 * (or on the first run, right after the pool is created); a run during a
 * resize is recorded and its targets wait for the next one.
 */
export function applyAutoScaleRun(
  { pool, internal }: PoolWithInternal,
  run: AutoScaleRun,
  targets: { dedicated: number; lowPriority: number; deallocation: ComputeNodeDeallocationOption } | undefined,
  now: Date,
  eTag: string,
): PoolWithInternal {
  const recorded = { pool: { ...touch(pool, now, eTag), autoScaleRun: run }, internal };
  if (!targets || pool.state !== 'active') return recorded;
  const first = pool.autoScaleRun === undefined;
  if (!first && pool.allocationState !== 'steady') return recorded;
  if (!first && targets.dedicated === pool.targetDedicatedNodes && targets.lowPriority === pool.targetLowPriorityNodes) return recorded;
  return withTargets(
    recorded.pool,
    { targetDedicatedNodes: targets.dedicated, targetLowPriorityNodes: targets.lowPriority, nodeDeallocationOption: targets.deallocation },
    now,
    eTag,
  );
}
