// The one place where state changes of pools, nodes, jobs and tasks are
// observed: a Store that passes everything to the real one and, on each
// insert, update and delete of those four, compares the record with the
// signature it last saw (core/state-changes.ts) and reports the change.
//
// Events wait for the outermost transaction to commit: a transaction that
// throws (a refused request, a full disk) stored nothing, so it tells
// nothing, and what it made the memory believe is undone. Nested calls join
// the outer transaction, as the store's own do.
//
// The memory holds one short string per pool, node and job, and per task
// that has changed state in this process and is not completed: running
// tasks, mostly, as many as there are slots. A task just added, or completed,
// is not remembered (a job may hold a million of them); its next write is
// judged by its own stamps (taskChange). The memory is filled by the writes
// it sees, and at start with the pools, nodes, jobs and running tasks in the
// store.

import type { StateChange } from '../core/events.js';
import type { JobRecord, JobRepository, NodeRecord, NodeRepository, PoolRecord, PoolRepository, Store, TaskRepository } from '../core/ports.js';
import type { JobState } from '../core/job.js';
import type { Clock } from '../core/time.js';
import { formatTimestamp } from '../core/time.js';
import {
  deleted,
  jobChange,
  jobSignature,
  nodeChange,
  nodeSignature,
  poolChange,
  poolSignature,
  taskAdded,
  taskChange,
  taskSignature,
} from '../core/state-changes.js';

const ALL_JOB_STATES: JobState[] = ['active', 'disabling', 'disabled', 'enabling', 'terminating', 'completed', 'deleting'];

type Undo = () => void;

/** Signatures by group (an account's pools, a job's tasks…) and item id, lower-cased as Batch ids compare. */
class SignatureMemory {
  private readonly groups = new Map<string, Map<string, string>>();

  constructor(private readonly undoLog: () => Undo[] | undefined) {}

  get(group: string, item: string): string | undefined {
    return this.groups.get(group)?.get(item);
  }

  set(group: string, item: string, signature: string | undefined): void {
    let items = this.groups.get(group);
    const old = items?.get(item);
    if (old === signature) return;
    if (signature === undefined) items?.delete(item);
    else {
      if (!items) this.groups.set(group, (items = new Map()));
      items.set(item, signature);
    }
    this.undoLog()?.push(() => this.restore(group, item, old));
  }

  dropGroup(group: string): void {
    const items = this.groups.get(group);
    if (!items) return;
    this.groups.delete(group);
    this.undoLog()?.push(() => this.groups.set(group, items));
  }

  private restore(group: string, item: string, signature: string | undefined): void {
    let items = this.groups.get(group);
    if (signature === undefined) items?.delete(item);
    else {
      if (!items) this.groups.set(group, (items = new Map()));
      items.set(item, signature);
    }
  }
}

/** Wraps `inner` so that `report` hears every committed state change. */
export function observeStateChanges(inner: Store, clock: Clock, report: (change: StateChange) => void): Store {
  let depth = 0;
  let pending: (StateChange | undefined)[] = [];
  /** Where each node's state change waits in `pending`. */
  let pendingNodes = new Map<string, number>();
  let undo: Undo[] = [];
  const memory = new SignatureMemory(() => (depth > 0 ? undo : undefined));
  const key = (...parts: string[]) => parts.join('\n').toLowerCase();
  const emit = (change: StateChange | undefined) => {
    if (!change) return;
    if (depth === 0) return report(change);
    // A node's states in between, inside one transaction, were never visible (a preempted or lost node's
    // slots freed as its tasks are requeued, then its new state): one change from the first to the last.
    if (change.resource === 'node' && change.change === 'state') {
      const nodeKey = key(change.account, change.poolId ?? '', change.nodeId ?? '');
      const earlier = pendingNodes.get(nodeKey);
      if (earlier !== undefined) {
        const first = pending[earlier];
        pending[earlier] = undefined;
        pendingNodes.delete(nodeKey);
        if (first?.previousState === change.state) return;
        change = { ...change, previousState: first?.previousState };
      }
      pendingNodes.set(nodeKey, pending.length);
    }
    pending.push(change);
  };
  const now = () => formatTimestamp(clock.now());

  for (const { account, pool } of inner.pools.listAll()) memory.set(key(account), key(pool.id), poolSignature(pool));
  for (const { account, poolId, node } of inner.nodes.listAll()) memory.set(key(account, poolId), key(node.id), nodeSignature(node));
  for (const { account, job } of inner.jobs.listByState(ALL_JOB_STATES)) memory.set(key(account), key(job.id), jobSignature(job));
  // Tasks a previous process left running: how the restart completes or requeues them is told against what they were.
  for (const { account, jobId, task } of inner.tasks.listAllRunning()) memory.set(key(account, jobId), key(task.id), taskSignature(task));

  /** One write: its change against the signature remembered (none when they are the same), then the new signature remembered. */
  const written = (group: string, item: string, signature: string, change: (before: string | undefined) => StateChange | undefined) => {
    const before = memory.get(group, item);
    if (before === signature) return;
    emit(change(before));
    memory.set(group, item, signature);
  };
  const gone = (group: string, item: string, change: StateChange) => {
    memory.set(group, item, undefined);
    emit(change);
  };

  const poolWritten = ({ account, pool }: PoolRecord) => written(key(account), key(pool.id), poolSignature(pool), (before) => poolChange(account, before, pool));
  const pools = extend<PoolRepository>(inner.pools, {
    insert(record) {
      const inserted = inner.pools.insert(record);
      if (inserted) poolWritten(record);
      return inserted;
    },
    update(record) {
      inner.pools.update(record);
      poolWritten(record);
    },
    delete(account, poolId) {
      inner.pools.delete(account, poolId);
      gone(key(account), key(poolId), deleted(account, 'pool', { poolId }, now()));
    },
  });

  const nodeWritten = ({ account, poolId, node }: NodeRecord) =>
    written(key(account, poolId), key(node.id), nodeSignature(node), (before) => nodeChange(account, poolId, before, node));
  const nodes = extend<NodeRepository>(inner.nodes, {
    insert(record) {
      inner.nodes.insert(record);
      nodeWritten(record);
    },
    update(record) {
      inner.nodes.update(record);
      nodeWritten(record);
    },
    delete(account, poolId, nodeId) {
      inner.nodes.delete(account, poolId, nodeId);
      gone(key(account, poolId), key(nodeId), deleted(account, 'node', { poolId, nodeId }, now()));
    },
  });

  const jobWritten = ({ account, job }: JobRecord) => written(key(account), key(job.id), jobSignature(job), (before) => jobChange(account, before, job));
  const jobs = extend<JobRepository>(inner.jobs, {
    insert(record) {
      const inserted = inner.jobs.insert(record);
      if (inserted) jobWritten(record);
      return inserted;
    },
    update(record) {
      inner.jobs.update(record);
      jobWritten(record);
    },
    delete(account, jobId) {
      inner.jobs.delete(account, jobId);
      gone(key(account), key(jobId), deleted(account, 'job', { jobId }, now()));
    },
  });

  const tasks = extend<TaskRepository>(inner.tasks, {
    insert(record) {
      const inserted = inner.tasks.insert(record);
      // Not remembered: a job may add a million tasks, and a task's first transition tells itself (taskChange).
      if (inserted) emit(taskAdded(record.account, record.jobId, record.task));
      return inserted;
    },
    update(record) {
      inner.tasks.update(record);
      const group = key(record.account, record.jobId);
      const item = key(record.task.id);
      const before = memory.get(group, item);
      const signature = taskSignature(record.task);
      // Most writes of a task change no state (its run's progress, its internal part): one comparison tells.
      if (before === signature) return;
      emit(taskChange(record.account, record.jobId, before, record.task));
      memory.set(group, item, record.task.state === 'completed' ? undefined : signature);
    },
    delete(account, jobId, taskId) {
      inner.tasks.delete(account, jobId, taskId);
      gone(key(account, jobId), key(taskId), deleted(account, 'task', { jobId, taskId }, now()));
    },
    deleteByJob(account, jobId) {
      inner.tasks.deleteByJob(account, jobId);
      memory.dropGroup(key(account, jobId));
    },
  });

  return extend<Store>(inner, {
    pools,
    nodes,
    jobs,
    tasks,
    transaction<T>(work: () => T): T {
      depth += 1;
      let result: T;
      try {
        result = inner.transaction(work);
      } catch (error) {
        if (depth === 1) {
          for (const step of undo.reverse()) step();
          undo = [];
          pending = [];
          pendingNodes = new Map();
        }
        throw error;
      } finally {
        depth -= 1;
      }
      if (depth === 0) {
        const committed = pending;
        pending = [];
        pendingNodes = new Map();
        undo = [];
        for (const change of committed) if (change) report(change);
      }
      return result;
    },
  });
}

/**
 * `base` with some members replaced. Every other member (reads, and any the
 * store gains later) is the store's own, bound to it, so it runs on the
 * store itself exactly as if called there.
 */
function extend<T extends object>(base: T, overrides: Partial<T>): T {
  const members: Record<string, unknown> = {};
  for (let layer: object | null = base; layer && layer !== Object.prototype; layer = Object.getPrototypeOf(layer) as object | null) {
    for (const name of Object.getOwnPropertyNames(layer)) {
      if (name === 'constructor' || name in members) continue;
      const value = (base as Record<string, unknown>)[name];
      members[name] = typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(base) : value;
    }
  }
  return Object.assign(members, overrides) as T;
}
