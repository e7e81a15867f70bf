// Public types of the autoscale evaluator: the service variables, the inputs
// the service hands in (current values, sample history, the time, a random
// source) and the outcome, shaped like Batch's AutoScaleRun.

import type { AutoScaleProgram } from './ast.js';

export type NodeDeallocationOption = 'requeue' | 'terminate' | 'taskcompletion' | 'retaineddata';
export const NODE_DEALLOCATION_OPTIONS: readonly NodeDeallocationOption[] = ['requeue', 'terminate', 'taskcompletion', 'retaineddata'];

/** Read-write service variables, by canonical name. */
export const TARGET_DEDICATED = '$TargetDedicatedNodes';
export const TARGET_LOW_PRIORITY = '$TargetLowPriorityNodes';
export const NODE_DEALLOCATION = '$NodeDeallocationOption';
/** The documented short aliases; the full name wins when a formula sets both. */
export const TARGET_DEDICATED_ALIAS = '$TargetDedicated';
export const TARGET_LOW_PRIORITY_ALIAS = '$TargetLowPriority';

export const WRITABLE_VARIABLES = [TARGET_DEDICATED, TARGET_LOW_PRIORITY, NODE_DEALLOCATION, TARGET_DEDICATED_ALIAS, TARGET_LOW_PRIORITY_ALIAS] as const;

/** Read-only service variables: each is an object with sample methods and reads as its current value. */
export const SAMPLE_VARIABLES = [
  '$CPUPercent',
  '$WallClockSeconds',
  '$MemoryBytes',
  '$DiskBytes',
  '$DiskReadBytes',
  '$DiskWriteBytes',
  '$DiskReadOps',
  '$DiskWriteOps',
  '$NetworkInBytes',
  '$NetworkOutBytes',
  '$SampleNodeCount',
  '$ActiveTasks',
  '$RunningTasks',
  '$PendingTasks',
  '$SucceededTasks',
  '$FailedTasks',
  '$TaskSlotsPerNode',
  '$CurrentDedicatedNodes',
  '$CurrentLowPriorityNodes',
  '$UsableNodeCount',
  '$PreemptedNodeCount',
] as const;
export type SampleVariable = (typeof SAMPLE_VARIABLES)[number];

/** Batch's AutoScaleRunError on the wire. */
export interface AutoScaleRunError {
  code: string;
  message: string;
  values: { name: string; value: string }[];
}

export interface AutoScaleSample {
  /** When the sample was taken (a Date or epoch milliseconds). */
  time: Date | number;
  value: number;
}

export interface AutoScaleInputs {
  /** The evaluation time: `time()` and every sample window are relative to it. */
  now: Date | number;
  /** Current targets, the initial values of the read-write variables. Defaults 0, 0, requeue. */
  targetDedicatedNodes?: number;
  targetLowPriorityNodes?: number;
  nodeDeallocationOption?: NodeDeallocationOption;
  /** Current value of a read-only variable, used when the formula reads it as a double. */
  values?: Partial<Record<SampleVariable, number>>;
  /** Sample history per read-only variable, in any order; samples after `now` are not yet available. */
  samples?: Partial<Record<SampleVariable, readonly AutoScaleSample[]>>;
  /** Milliseconds between samples (Batch: 30 s); the base of sample percentages. */
  samplePeriodMs?: number;
  /** Source for rand(), values in [0, 1). Defaults to a generator seeded from `now`. */
  random?: () => number;
}

export interface AutoScaleVariable {
  name: string;
  /** The value as written in the results string. */
  value: string;
}

export interface AutoScaleSuccess {
  ok: true;
  targetDedicatedNodes: number;
  targetLowPriorityNodes: number;
  nodeDeallocationOption: NodeDeallocationOption;
  /** The read-write variables first, then the user variables by name. */
  variables: AutoScaleVariable[];
  /** AutoScaleRun.results: `$TargetDedicatedNodes=2;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue;x=3`. */
  results: string;
}

export interface AutoScaleFailure {
  ok: false;
  error: AutoScaleRunError;
  /** AutoScaleRun.results on failure: the unchanged current targets. */
  results: string;
}

export type AutoScaleOutcome = AutoScaleSuccess | AutoScaleFailure;

export type AutoScaleParseResult = { ok: true; program: AutoScaleProgram } | { ok: false; error: AutoScaleRunError };
