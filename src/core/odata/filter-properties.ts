// Which properties each Batch list lets `$filter` use, with their types and
// where they sit in the stored wire-shaped document. Source: the "OData
// filters in Batch" page of the Batch REST reference, widened with a few
// plain fields of our documents (displayName, counters) that are harmless to
// offer. Operators follow that page: enums and booleans take eq/ne, strings
// also take startswith and ordering, numbers and datetimes all comparisons.

import type { ErrorCategory } from '../common.js';
import type { JobState, OnAllTasksComplete, OnTaskFailure } from '../job.js';
import type { ComputeNodeState, SchedulingState } from '../node.js';
import type { AllocationState, PoolState } from '../pool.js';
import type { TaskExecutionResult, TaskState } from '../task.js';
import { COMPARISON_OPERATORS, type FilterOperator, type FilterProperty, type FilterValueType } from './filter-ast.js';

export type FilterListKind =
  | 'pools'
  | 'jobs'
  | 'jobSchedules'
  | 'tasks'
  | 'nodes'
  | 'certificates'
  | 'files'
  | 'poolNodeCounts'
  | 'poolUsageMetrics'
  | 'supportedImages'
  | 'nodeAgentSkus';

const EQUALITY: readonly FilterOperator[] = ['eq', 'ne'];
const ORDERED: readonly FilterOperator[] = COMPARISON_OPERATORS;
const TEXT: readonly FilterOperator[] = ['startswith', ...COMPARISON_OPERATORS];

function property(name: string, type: FilterValueType, operators: readonly FilterOperator[], values?: readonly string[]): FilterProperty {
  return values ? { name, type, path: name.split('/'), operators, values } : { name, type, path: name.split('/'), operators };
}

const string = (name: string, operators = TEXT) => property(name, 'string', operators);
const int = (name: string) => property(name, 'int', ORDERED);
const datetime = (name: string) => property(name, 'datetime', ORDERED);
const bool = (name: string) => property(name, 'bool', EQUALITY);
/** An enum compares without regard to case; without `values` any text is accepted (vmSize). */
const enumOf = (name: string, values?: readonly string[], operators = EQUALITY) => property(name, 'enum', operators, values);

/** Every value of the string union T, checked at compile time, so core and the filter agree. */
const allOf =
  <T extends string>() =>
  <const A extends readonly T[]>(values: A & ([Exclude<T, A[number]>] extends [never] ? unknown : never)): readonly string[] =>
    values;

const TASK_STATES = allOf<TaskState>()(['active', 'preparing', 'running', 'completed']);
const RESULTS = allOf<TaskExecutionResult>()(['success', 'failure']);
const JOB_STATES = allOf<JobState>()(['active', 'disabling', 'disabled', 'enabling', 'terminating', 'completed', 'deleting']);
// Later api-versions add node and pool states Lapis never enters; a filter on them is still valid.
const NODE_STATES = allOf<ComputeNodeState | 'upgradingos' | 'deallocated' | 'deallocating'>()([
  'idle',
  'rebooting',
  'reimaging',
  'running',
  'unusable',
  'creating',
  'starting',
  'waitingforstarttask',
  'starttaskfailed',
  'unknown',
  'leavingpool',
  'offline',
  'preempted',
  'upgradingos',
  'deallocated',
  'deallocating',
]);
const POOL_STATES = allOf<PoolState | 'upgrading'>()(['active', 'deleting', 'upgrading']);

const createdAndModified = [datetime('creationTime'), datetime('lastModified'), datetime('stateTransitionTime')];

export const FILTER_PROPERTIES: Readonly<Record<FilterListKind, readonly FilterProperty[]>> = {
  pools: [
    string('id'),
    string('displayName'),
    enumOf('state', POOL_STATES),
    enumOf('allocationState', allOf<AllocationState>()(['steady', 'resizing', 'stopping'])),
    datetime('allocationStateTransitionTime'),
    ...createdAndModified,
    enumOf('vmSize'),
    int('currentDedicatedNodes'),
    int('currentLowPriorityNodes'),
    int('targetDedicatedNodes'),
    int('targetLowPriorityNodes'),
    int('taskSlotsPerNode'),
    bool('enableAutoScale'),
    bool('enableInterNodeCommunication'),
  ],
  jobs: [
    string('id'),
    string('displayName'),
    enumOf('state', JOB_STATES),
    enumOf('previousState', JOB_STATES),
    ...createdAndModified,
    int('priority'),
    int('maxParallelTasks'),
    bool('usesTaskDependencies'),
    bool('allowTaskPreemption'),
    enumOf('onAllTasksComplete', allOf<OnAllTasksComplete>()(['noaction', 'terminatejob'])),
    enumOf('onTaskFailure', allOf<OnTaskFailure>()(['noaction', 'performexitoptionsjobaction'])),
    string('poolInfo/poolId'),
    string('executionInfo/poolId'),
    datetime('executionInfo/startTime'),
    datetime('executionInfo/endTime'),
    string('executionInfo/terminateReason'),
  ],
  jobSchedules: [
    string('id'),
    string('displayName'),
    enumOf('state', ['active', 'completed', 'disabled', 'terminating', 'deleting']),
    ...createdAndModified,
    datetime('executionInfo/nextRunTime'),
    datetime('executionInfo/endTime'),
    string('executionInfo/recentJob/id'),
  ],
  tasks: [
    string('id'),
    string('displayName'),
    enumOf('state', TASK_STATES),
    enumOf('previousState', TASK_STATES),
    ...createdAndModified,
    datetime('previousStateTransitionTime'),
    datetime('executionInfo/startTime'),
    datetime('executionInfo/endTime'),
    int('executionInfo/exitCode'),
    enumOf('executionInfo/result', RESULTS),
    int('executionInfo/retryCount'),
    datetime('executionInfo/lastRetryTime'),
    int('executionInfo/requeueCount'),
    datetime('executionInfo/lastRequeueTime'),
    enumOf('executionInfo/failureInfo/category', allOf<ErrorCategory>()(['usererror', 'servererror'])),
    string('executionInfo/failureInfo/code'),
    string('nodeInfo/nodeId'),
    string('nodeInfo/poolId'),
    int('requiredSlots'),
    int('multiInstanceSettings/numberOfInstances'),
  ],
  nodes: [
    string('id'),
    enumOf('state', NODE_STATES),
    enumOf('schedulingState', allOf<SchedulingState>()(['enabled', 'disabled'])),
    datetime('stateTransitionTime'),
    datetime('lastBootTime'),
    datetime('allocationTime'),
    enumOf('vmSize'),
    string('ipAddress'),
    bool('isDedicated'),
    int('runningTasksCount'),
    int('runningTaskSlotsCount'),
    int('totalTasksRun'),
    int('totalTasksSucceeded'),
    enumOf('startTaskInfo/state', ['running', 'completed'], ['eq']),
    enumOf('startTaskInfo/result', RESULTS),
    int('startTaskInfo/exitCode'),
    datetime('startTaskInfo/startTime'),
    datetime('startTaskInfo/endTime'),
  ],
  certificates: [
    string('thumbprint'),
    enumOf('thumbprintAlgorithm'),
    enumOf('state', ['active', 'deleting', 'deletefailed']),
    enumOf('previousState', ['active', 'deleting', 'deletefailed']),
    datetime('stateTransitionTime'),
  ],
  // Task and node file lists: only a name prefix.
  files: [string('name', ['startswith'])],
  poolNodeCounts: [string('poolId', ['eq'])],
  poolUsageMetrics: [string('poolId'), string('vmSize')],
  supportedImages: [
    enumOf('osType', ['linux', 'windows']),
    enumOf('verificationType', ['verified', 'unverified']),
    string('nodeAgentSKUId', EQUALITY),
  ],
  // Account_ListNodeAgentSkus, before 2019-06-01.9.0.
  nodeAgentSkus: [enumOf('osType', ['linux', 'windows']), string('id', EQUALITY)],
};

const byName = new Map(
  Object.entries(FILTER_PROPERTIES).map(([kind, properties]) => [kind, new Map(properties.map((p) => [p.name.toLowerCase(), p]))]),
);

/** The property of that list with that wire name; names match without regard to case. */
export function findFilterProperty(kind: FilterListKind, name: string): FilterProperty | undefined {
  return byName.get(kind)?.get(name.toLowerCase());
}
