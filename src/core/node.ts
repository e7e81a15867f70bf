// A compute node: wire shape and lifecycle.
//
//   creating ──▶ starting ──(provider ready)──▶ idle ◀──▶ running
//                                               ▲ │           │
//                       (restarted) rebooting ◀─┘ │ reboot /  │
//                                   reimaging ◀───┘ reimage   │
//                                                 │           │
//                                   (pool shrinks or is deleted)
//                                                 ▼           ▼
//                                              leavingpool ──▶ (removed)
//
//   idle / running / offline / waitingforstarttask / starttaskfailed
//        ──(agent silent past the heartbeat timeout)──▶ unknown
//   unknown ──(the provider restarts it)──▶ idle, or its start task again
//   unknown ──(restart failed)──▶ unusable
//   a Spot/low-priority node ──(its VM taken back)──▶ preempted, its tasks requeued
//   preempted ──(capacity back)──▶ starting ──▶ idle, or its start task again
//
// A node runs up to the pool's taskSlotsPerNode task slots; it is `running`
// while any slot is used and `idle` otherwise, or `offline` when its
// scheduling is disabled and nothing runs on it.

import type { TaskFailureInfo } from './common.js';
import { batchErrors } from './errors.js';
import type { ComputeNodeError } from './node-start-failure.js';
import type { ImageReference, StartTask } from './pool.js';
import { runResult } from './run-outcome.js';
import type { TaskExecutionInformation } from './task.js';
import { formatTimestamp } from './time.js';

export type ComputeNodeState =
  | 'idle'
  | 'rebooting'
  | 'reimaging'
  | 'running'
  | 'unusable'
  | 'creating'
  | 'starting'
  | 'waitingforstarttask'
  | 'starttaskfailed'
  | 'unknown'
  | 'leavingpool'
  | 'offline'
  | 'preempted'
  | 'upgradingos'
  | 'deallocating'
  | 'deallocated';

export type SchedulingState = 'enabled' | 'disabled';

/** An entry of recentTasks (see node-recent-tasks.ts); its taskUrl is made on the wire. */
export interface TaskInformation {
  jobId?: string;
  taskId?: string;
  subtaskId?: number;
  taskState: string;
  executionInfo?: TaskExecutionInformation;
}

/** A user account added to a node; its password is never stored, only whether one was set. */
export interface NodeUser {
  name: string;
  isAdmin: boolean;
  expiryTime: string;
  hasPassword: boolean;
  sshPublicKey?: string;
}

/** How a node's start task went, as Batch reports it in startTaskInfo. */
export interface StartTaskInformation {
  state: 'running' | 'completed';
  startTime: string;
  endTime?: string;
  exitCode?: number;
  failureInfo?: TaskFailureInfo;
  retryCount: number;
  lastRetryTime?: string;
  result?: 'success' | 'failure';
}

export interface ComputeNode {
  id: string;
  state: ComputeNodeState;
  schedulingState: SchedulingState;
  stateTransitionTime: string;
  lastBootTime?: string;
  allocationTime: string;
  ipAddress: string;
  affinityId: string;
  vmSize: string;
  totalTasksRun: number;
  runningTasksCount: number;
  runningTaskSlotsCount: number;
  totalTasksSucceeded: number;
  recentTasks?: TaskInformation[];
  isDedicated: boolean;
  nodeAgentInfo: { version: string; lastUpdateTime: string };
  virtualMachineInfo?: { imageReference: ImageReference };
  /** The pool's start task as it was when this node last booted. */
  startTask?: StartTask;
  startTaskInfo?: StartTaskInformation;
  /** Why an unusable node could not start; gone once it starts again. */
  errors?: ComputeNodeError[];
}

/** Lapis's own about a node, kept beside its wire document (never answered). */
export interface NodeInternal {
  /** The users added with ComputeNode_AddUser. */
  users?: NodeUser[];
  /** Fences reports of earlier start task runs. */
  startTaskAttempt?: number;
  /** Leaving or restarting with retaineddata, it waits until its tasks' retention times have passed. */
  retainsTaskData?: boolean;
}

/** A node and its internal part, as the transitions that change the internal part take and return them. */
export interface NodeWithInternal {
  node: ComputeNode;
  internal: NodeInternal;
}

export const NODE_AGENT_VERSION = '1.0.0-lapis';

export function newNode(
  id: string,
  options: { vmSize: string; isDedicated: boolean; imageReference?: ImageReference },
  now: Date,
): ComputeNode {
  const time = formatTimestamp(now);
  const node: ComputeNode = {
    id,
    state: 'starting',
    schedulingState: 'enabled',
    stateTransitionTime: time,
    allocationTime: time,
    ipAddress: '127.0.0.1',
    affinityId: `TVM:${id}`,
    vmSize: options.vmSize,
    totalTasksRun: 0,
    runningTasksCount: 0,
    runningTaskSlotsCount: 0,
    totalTasksSucceeded: 0,
    isDedicated: options.isDedicated,
    nodeAgentInfo: { version: NODE_AGENT_VERSION, lastUpdateTime: time },
  };
  if (options.imageReference) node.virtualMachineInfo = { imageReference: options.imageReference };
  return node;
}

function withState(node: ComputeNode, state: ComputeNodeState, now: Date): ComputeNode {
  if (node.state === state) return node;
  return { ...node, state, stateTransitionTime: formatTimestamp(now) };
}

/** A booted node rests, its tasks' data no longer retained. */
export function markNodeReady({ node, internal }: NodeWithInternal, now: Date): NodeWithInternal {
  const time = formatTimestamp(now);
  const { retainsTaskData: _retained, ...rest } = internal;
  const { errors: _errors, ...started } = node;
  const booted = { ...started, lastBootTime: time, runningTasksCount: 0, runningTaskSlotsCount: 0 };
  return { node: withState(booted, restingState(booted), now), internal: rest };
}

export function markNodeRestarting(node: ComputeNode, now: Date): ComputeNode {
  return withState({ ...node, runningTasksCount: 0, runningTaskSlotsCount: 0 }, 'starting', now);
}

export function markNodeLeaving({ node, internal }: NodeWithInternal, now: Date, retainsTaskData = false): NodeWithInternal {
  const leaving = withState(node, 'leavingpool', now);
  return { node: leaving, internal: retainsTaskData ? { ...internal, retainsTaskData } : internal };
}

const HEARTBEATING_STATES: ReadonlySet<ComputeNodeState> = new Set(['idle', 'running', 'offline', 'waitingforstarttask', 'starttaskfailed']);

/** A booted node the server expects heartbeats from: not being started, restarted, removed or recovered. */
export function expectsHeartbeat(node: ComputeNode): boolean {
  return HEARTBEATING_STATES.has(node.state);
}

/** The server lost contact with the node's agent (Batch: `unknown`); its tasks were requeued, so it holds no slot. */
export function markNodeLost(node: ComputeNode, now: Date): ComputeNode {
  return withState({ ...node, runningTasksCount: 0, runningTaskSlotsCount: 0 }, 'unknown', now);
}

/** States a Spot/low-priority node can be preempted in: it has a VM (not still being made, leaving, or already preempted). */
const PREEMPTIBLE_STATES: ReadonlySet<ComputeNodeState> = new Set(['idle', 'running', 'offline', 'waitingforstarttask', 'starttaskfailed', 'unknown', 'unusable', 'rebooting', 'reimaging']);

export function isPreemptible(node: ComputeNode): boolean {
  return !node.isDedicated && PREEMPTIBLE_STATES.has(node.state);
}

/** Batch took a Spot/low-priority node's VM back (`preempted`): its tasks were requeued, so it holds no slot; it stays in the pool until restored. */
export function markNodePreempted(node: ComputeNode, now: Date): ComputeNode {
  if (!isPreemptible(node)) throw batchErrors.invalidPropertyValue('nodeId', `Only a Spot/low-priority node with a VM can be preempted; this node is ${node.isDedicated ? 'dedicated' : node.state}.`);
  const { errors: _errors, ...rest } = node;
  return withState({ ...rest, runningTasksCount: 0, runningTaskSlotsCount: 0 }, 'preempted', now);
}

/** A node that could not be started or restarted (Batch: `unusable`), with Batch's errors saying why: it runs nothing until it is removed or restarts. */
export function markNodeUnusable(node: ComputeNode, now: Date, errors: ComputeNodeError[] = []): ComputeNode {
  const { errors: _earlier, ...rest } = node;
  return withState(errors.length > 0 ? { ...rest, errors } : rest, 'unusable', now);
}

export function isSchedulable(node: ComputeNode): boolean {
  return (node.state === 'idle' || node.state === 'running') && node.schedulingState === 'enabled';
}

export function freeSlots(node: ComputeNode, taskSlotsPerNode: number): number {
  return isSchedulable(node) ? Math.max(0, taskSlotsPerNode - node.runningTaskSlotsCount) : 0;
}

export function occupySlots(node: ComputeNode, slots: number, now: Date): ComputeNode {
  const next = { ...node, runningTasksCount: node.runningTasksCount + 1, runningTaskSlotsCount: node.runningTaskSlotsCount + slots };
  return node.state === 'idle' ? withState(next, 'running', now) : next;
}

export function releaseSlots(node: ComputeNode, slots: number, outcome: 'succeeded' | 'failed' | 'abandoned', now: Date): ComputeNode {
  const next: ComputeNode = {
    ...node,
    runningTasksCount: Math.max(0, node.runningTasksCount - 1),
    runningTaskSlotsCount: Math.max(0, node.runningTaskSlotsCount - slots),
    totalTasksRun: node.totalTasksRun + (outcome === 'abandoned' ? 0 : 1),
    totalTasksSucceeded: node.totalTasksSucceeded + (outcome === 'succeeded' ? 1 : 0),
  };
  return next.state === 'running' && next.runningTasksCount === 0 ? withState(next, restingState(next), now) : next;
}

/** A node with nothing running: idle, or offline while its scheduling is disabled. */
function restingState(node: ComputeNode): ComputeNodeState {
  return node.schedulingState === 'disabled' ? 'offline' : 'idle';
}

function assertReachable(node: ComputeNode): void {
  if (node.state !== 'idle' && node.state !== 'running' && node.state !== 'offline') throw batchErrors.nodeNotReady();
}

export type NodeRestartOption = 'requeue' | 'terminate' | 'taskcompletion' | 'retaineddata';

/** A node going down for a reboot, a reimage or a deallocation. */
export type NodeRestartKind = 'rebooting' | 'reimaging' | 'deallocating';

/** ComputeNode_Reboot / _Reimage / _Deallocate: the node takes no new task and goes down once its tasks are dealt with. */
export function beginNodeRestart({ node, internal }: NodeWithInternal, kind: NodeRestartKind, now: Date, retainsTaskData = false): NodeWithInternal {
  if (node.state !== 'idle' && node.state !== 'running') throw batchErrors.nodeNotReady();
  const restarting = withState(node, kind, now);
  return { node: restarting, internal: retainsTaskData ? { ...internal, retainsTaskData } : internal };
}

export function isRestarting(node: ComputeNode): boolean {
  return node.state === 'rebooting' || node.state === 'reimaging' || node.state === 'deallocating';
}

/** A deallocated node keeps its files and runs nothing until it is started. */
export function markNodeDeallocated(node: ComputeNode, now: Date): ComputeNode {
  return withState({ ...node, runningTasksCount: 0, runningTaskSlotsCount: 0 }, 'deallocated', now);
}

/** ComputeNode_Start: only a deallocated node starts. */
export function beginNodeStart(node: ComputeNode, now: Date): ComputeNode {
  if (node.state !== 'deallocated') throw batchErrors.nodeNotReady();
  return withState(node, 'starting', now);
}

export type DisableSchedulingOption = 'requeue' | 'terminate' | 'taskcompletion';

/** ComputeNode_DisableScheduling: no new task starts on the node; running ones are handled by the caller. */
export function disableNodeScheduling(node: ComputeNode, now: Date): ComputeNode {
  assertReachable(node);
  if (node.schedulingState === 'disabled') throw batchErrors.nodeAlreadyInTargetSchedulingState();
  const next: ComputeNode = { ...node, schedulingState: 'disabled' };
  return next.runningTasksCount === 0 ? withState(next, 'offline', now) : next;
}

/** ComputeNode_EnableScheduling: the node takes tasks again. */
export function enableNodeScheduling(node: ComputeNode, now: Date): ComputeNode {
  assertReachable(node);
  if (node.schedulingState === 'enabled') throw batchErrors.nodeAlreadyInTargetSchedulingState();
  const next: ComputeNode = { ...node, schedulingState: 'enabled' };
  return withState(next, next.runningTasksCount === 0 ? 'idle' : 'running', now);
}

export interface NodeUserSpec {
  name: string;
  isAdmin?: boolean;
  expiryTime?: string;
  password?: string;
  sshPublicKey?: string;
}

const ONE_DAY_MS = 24 * 60 * 60 * 1000;

function userOf(spec: NodeUserSpec, now: Date): NodeUser {
  const user: NodeUser = {
    name: spec.name,
    isAdmin: spec.isAdmin ?? false,
    expiryTime: spec.expiryTime ?? formatTimestamp(new Date(now.getTime() + ONE_DAY_MS)),
    hasPassword: spec.password !== undefined && spec.password !== '',
  };
  if (spec.sshPublicKey) user.sshPublicKey = spec.sshPublicKey;
  return user;
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** ComputeNode_AddUser: names are unique on a node without regard to case. */
export function addNodeUser({ node, internal }: NodeWithInternal, spec: NodeUserSpec, now: Date): NodeWithInternal {
  if (node.state !== 'idle' && node.state !== 'running' && node.state !== 'offline') throw batchErrors.nodeNotReady();
  const users = internal.users ?? [];
  if (users.some((user) => sameName(user.name, spec.name))) throw batchErrors.nodeUserExists();
  return { node, internal: { ...internal, users: [...users, userOf(spec, now)] } };
}

/** ComputeNode_UpdateUser replaces password, expiry and SSH key; what it omits is removed or defaulted. */
export function updateNodeUser({ node, internal }: NodeWithInternal, name: string, spec: Omit<NodeUserSpec, 'name' | 'isAdmin'>, now: Date): NodeWithInternal {
  const users = internal.users ?? [];
  const existing = users.find((user) => sameName(user.name, name));
  if (!existing) throw batchErrors.nodeUserNotFound();
  const updated = userOf({ ...spec, name: existing.name, isAdmin: existing.isAdmin }, now);
  return { node, internal: { ...internal, users: users.map((user) => (user === existing ? updated : user)) } };
}

export function deleteNodeUser({ node, internal }: NodeWithInternal, name: string): NodeWithInternal {
  const users = internal.users ?? [];
  if (!users.some((user) => sameName(user.name, name))) throw batchErrors.nodeUserNotFound();
  return { node, internal: { ...internal, users: users.filter((user) => !sameName(user.name, name)) } };
}

/**
 * A node that has just booted runs its pool's start task. With waitForSuccess
 * it waits (unschedulable) in `waitingforstarttask`; otherwise it takes tasks
 * while the start task runs.
 */
export function beginStartTask({ node, internal }: NodeWithInternal, startTask: StartTask, now: Date): NodeWithInternal {
  const time = formatTimestamp(now);
  const started: ComputeNode = { ...node, startTask, startTaskInfo: { state: 'running', startTime: time, retryCount: 0 } };
  return {
    node: (startTask.waitForSuccess ?? true) ? withState(started, 'waitingforstarttask', now) : started,
    internal: { ...internal, startTaskAttempt: (internal.startTaskAttempt ?? 0) + 1 },
  };
}

export function retryStartTask({ node, internal }: NodeWithInternal, now: Date): NodeWithInternal {
  const time = formatTimestamp(now);
  const info = node.startTaskInfo ?? { state: 'running' as const, startTime: time, retryCount: 0 };
  return {
    node: { ...node, startTaskInfo: { state: 'running', startTime: time, retryCount: info.retryCount + 1, lastRetryTime: time } },
    internal: { ...internal, startTaskAttempt: (internal.startTaskAttempt ?? 0) + 1 },
  };
}

/** The start task's last run ended: a node that waited becomes idle, or starttaskfailed when it failed. */
export function completeStartTask(
  node: ComputeNode,
  outcome: { exitCode?: number; failureInfo?: TaskFailureInfo; endTime: string },
  now: Date,
): ComputeNode {
  const { failed, failureInfo } = runResult(outcome);
  const info: StartTaskInformation = {
    ...(node.startTaskInfo ?? { startTime: outcome.endTime, retryCount: 0 }),
    state: 'completed',
    endTime: outcome.endTime,
    result: failed ? 'failure' : 'success',
  };
  if (outcome.exitCode !== undefined) info.exitCode = outcome.exitCode;
  if (failureInfo) info.failureInfo = failureInfo;
  const next: ComputeNode = { ...node, startTaskInfo: info };
  if (node.state !== 'waitingforstarttask') return next;
  return withState(next, failed ? 'starttaskfailed' : restingState(next), now);
}
