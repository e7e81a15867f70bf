// What the scheduler decides from and what it decides: a read-only snapshot
// of one pool (its nodes, its active jobs, their runnable tasks, and what it
// would take to make room) goes into the pure planner (scheduler/planner.ts);
// a plan comes out, and one applier commits it in one transaction
// (services/scheduling-service.ts), checking each step again.

import type { NodePreparation } from './job-preparation.js';

export interface SnapshotNode {
  nodeId: string;
  freeSlots: number;
  runningTasks: number;
  dedicated: boolean;
}

export interface SnapshotJob {
  id: string;
  priority: number;
  allowTaskPreemption: boolean;
  /** How many more of its tasks may start under maxParallelTasks. */
  parallelRoom: number;
  /**
   * With a preparation task: where the job's tasks stand on each node with
   * free slots; `unstarted` where the preparation task has not run yet (the
   * plan starts it). Without one: undefined, every node is ready.
   */
  preparation?: {
    nodes: Record<string, NodePreparation | 'unstarted'>;
    /** waitForSuccess: tasks wait on a node until its preparation succeeded. */
    gatesTasks: boolean;
  };
}

export interface SnapshotTask {
  jobId: string;
  taskId: string;
  /** Slots it takes (a job manager with runExclusive takes a whole node). */
  requiredSlots: number;
  /** Instances of a multi-instance task, each on a node of its own. */
  instances: number;
  /** A job manager with allowLowPriorityNode false. */
  dedicatedOnly: boolean;
}

export interface SnapshotRunningTask {
  jobId: string;
  taskId: string;
  attempt: number;
  slotsHeld: number;
  /** Its nodes (several for a multi-instance task). */
  nodeIds: string[];
}

export interface PoolSnapshot {
  account: string;
  poolId: string;
  nodeFillType: 'spread' | 'pack';
  nodes: SnapshotNode[];
  /** Active jobs, highest priority first. */
  jobs: SnapshotJob[];
  /** Each priority group's runnable tasks, best first (submission order), as many as the pool could take. */
  runnable: SnapshotTask[][];
  /** With preemption: running tasks of jobs that allow it, and the slots each job's waiting tasks need. */
  preemption?: { running: SnapshotRunningTask[]; waitingSlots: Record<string, number> };
}

export interface Assignment {
  account: string;
  poolId: string;
  nodeId: string;
  jobId: string;
  taskId: string;
  /** A multi-instance task's nodes, primary first. */
  nodeIds?: string[];
}

export interface Plan {
  /** Running tasks to requeue (requeueCount + 1) to make room for higher-priority jobs. */
  preemptions: SnapshotRunningTask[];
  /** Preparation tasks to start, one per job and node. */
  preparations: { jobId: string; nodeId: string }[];
  assignments: Assignment[];
}
