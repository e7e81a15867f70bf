// Multi-instance tasks: one task on numberOfInstances nodes at once. Every
// instance runs the coordination command; when all have succeeded, the
// primary (instance 0) runs the task's command line; its end is the task's
// end, and the other instances (the subtasks) are stopped with it.

import type { ResourceFile, TaskFailureInfo } from './common.js';
import type { TaskNodeInfo } from './task-node-info.js';
import { formatTimestamp } from './time.js';

export interface MultiInstanceSettings {
  numberOfInstances?: number;
  coordinationCommandLine?: string;
  commonResourceFiles?: ResourceFile[];
}

export type SubtaskState = 'preparing' | 'running' | 'completed';

/** One instance of a running multi-instance task; instance 0 is the primary. */
export interface InstanceStatus {
  id: number;
  nodeInfo: TaskNodeInfo;
  state: SubtaskState;
  stateTransitionTime: string;
  previousState?: SubtaskState;
  previousStateTransitionTime?: string;
  startTime: string;
  endTime?: string;
  exitCode?: number;
  failureInfo?: TaskFailureInfo;
  result?: 'success' | 'failure';
  /** Lapis's own: the coordination command has succeeded on this instance. */
  coordinated?: boolean;
}

/** An instance as Task_ListSubtasks answers it: all but Lapis's own coordination flag. */
export type Subtask = Omit<InstanceStatus, 'coordinated'>;

export function subtaskOf({ coordinated: _coordinated, ...subtask }: InstanceStatus): Subtask {
  return subtask;
}

type WithSettings = { multiInstanceSettings?: MultiInstanceSettings };

export function multiInstanceOf(task: WithSettings): MultiInstanceSettings | undefined {
  return task.multiInstanceSettings;
}

export function instanceCount(task: WithSettings): number {
  const settings = multiInstanceOf(task);
  return settings ? Math.max(1, settings.numberOfInstances ?? 1) : 1;
}

export function startInstances(nodeInfos: TaskNodeInfo[], now: Date): InstanceStatus[] {
  const time = formatTimestamp(now);
  return nodeInfos.map((nodeInfo, id) => ({ id, nodeInfo, state: 'running', stateTransitionTime: time, startTime: time }));
}

export function completeInstance(
  instance: InstanceStatus,
  outcome: { exitCode?: number; failureInfo?: TaskFailureInfo; endTime: string },
  now: Date,
): InstanceStatus {
  const failed = outcome.failureInfo !== undefined || (outcome.exitCode ?? 0) !== 0;
  const completed: InstanceStatus = {
    ...instance,
    previousState: instance.state,
    previousStateTransitionTime: instance.stateTransitionTime,
    state: 'completed',
    stateTransitionTime: formatTimestamp(now),
    endTime: outcome.endTime,
    result: failed ? 'failure' : 'success',
  };
  if (outcome.exitCode !== undefined) completed.exitCode = outcome.exitCode;
  if (outcome.failureInfo) completed.failureInfo = outcome.failureInfo;
  return completed;
}
