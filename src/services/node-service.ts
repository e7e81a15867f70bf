// Compute node use cases (list, get, scheduling, node counts, removal) and
// the allocator's side of pools:
// deciding which nodes to create or remove so each pool reaches its targets,
// recording nodes as they become ready or leave, and recovering after restart.

import { createHash, randomBytes } from 'node:crypto';
import { checkConditions, type Conditions } from '../core/conditions.js';
import { earnsRetry } from '../core/run-outcome.js';
import { matchesFilter } from '../core/odata/filter-eval.js';
import { batchErrors } from '../core/errors.js';
import {
  disableNodeScheduling,
  enableNodeScheduling,
  markNodeLeaving,
  addNodeUser,
  beginNodeRestart,
  beginNodeStart,
  beginStartTask,
  completeStartTask,
  retryStartTask,
  deleteNodeUser,
  markNodeDeallocated,
  expectsHeartbeat,
  markNodeLost,
  markNodePreempted,
  isPreemptible,
  markNodeUnusable,
  updateNodeUser,
  isRestarting,
  markNodeReady,
  markNodeRestarting,
  newNode,
  type ComputeNode,
  type ComputeNodeState,
  type DisableSchedulingOption,
  type NodeRestartKind,
  type NodeRestartOption,
  type NodeUserSpec,
  type NodeWithInternal,
} from '../core/node.js';
import { nodeErrorsOf } from '../core/node-start-failure.js';
import { allocationTargets, beginNodeRemoval, recordAllocation, type ComputeNodeDeallocationOption, type Pool } from '../core/pool.js';
import type { NodePlacement, NodeRecord, Page, PageQuery, TaskRun, TaskRunReport, TaskRunRef } from '../core/ports.js';
import type { Caller, ServiceContext } from './context.js';
import type { JobPreparationService } from './job-preparation-service.js';
import type { RunBuilder } from './run-builder.js';
import { endRun, requeueRun, runningTasksOnNode, runRefsOf } from './task-runs.js';

export interface AllocationWork {
  provision: NodePlacement[];
  release: NodePlacement[];
  stop: TaskRunRef[];
}

/** Nodes of one kind (dedicated or low priority) of a pool, by state, as Account_ListPoolNodeCounts reports them. */
export type NodeCounts = Record<ComputeNodeState, number> & { total: number };

export interface PoolNodeCounts {
  poolId: string;
  dedicated: NodeCounts;
  lowPriority: NodeCounts;
}

export interface NodeRemovalRequest {
  nodeList: string[];
  resizeTimeout?: string;
  nodeDeallocationOption?: ComputeNodeDeallocationOption;
}

export class NodeService {
  constructor(
    private readonly context: ServiceContext,
    private readonly preparation: JobPreparationService,
    private readonly runs: RunBuilder,
  ) {}

  private findNode(caller: Caller, poolId: string, nodeId: string): NodeRecord {
    const { store } = this.context;
    if (!store.pools.get(caller.account, poolId)) throw batchErrors.poolNotFound();
    const record = store.nodes.get(caller.account, poolId, nodeId);
    if (!record) throw batchErrors.nodeNotFound();
    return record;
  }

  addUser(caller: Caller, poolId: string, nodeId: string, spec: NodeUserSpec): void {
    this.changeNode(caller, poolId, nodeId, (current) => addNodeUser(current, spec, this.context.now()));
  }

  updateUser(caller: Caller, poolId: string, nodeId: string, name: string, spec: Omit<NodeUserSpec, 'name' | 'isAdmin'>): void {
    this.changeNode(caller, poolId, nodeId, (current) => updateNodeUser(current, name, spec, this.context.now()));
  }

  deleteUser(caller: Caller, poolId: string, nodeId: string, name: string): void {
    this.changeNode(caller, poolId, nodeId, (current) => deleteNodeUser(current, name));
  }

  private changeNode(caller: Caller, poolId: string, nodeId: string, change: (current: NodeWithInternal) => NodeWithInternal): void {
    const { store } = this.context;
    store.transaction(() => {
      const record = this.findNode(caller, poolId, nodeId);
      store.nodes.update({ ...record, ...change(record) });
    });
  }

  /** ComputeNode_DisableScheduling: running tasks are requeued (default), ended, or left to finish. */
  disableScheduling(caller: Caller, poolId: string, nodeId: string, option: DisableSchedulingOption = 'requeue'): void {
    const { store } = this.context;
    const stop = store.transaction(() => {
      const record = this.findNode(caller, poolId, nodeId);
      const ending = option === 'taskcompletion' ? 'none' : option === 'requeue' ? 'requeue' : 'terminate';
      return this.endTasksThen(record, ending, ({ node, internal }) => ({ node: disableNodeScheduling(node, this.context.now()), internal })).stopped;
    });
    this.context.deps.nodeWork.stopRuns(stop);
    this.context.deps.signal.wake();
  }

  enableScheduling(caller: Caller, poolId: string, nodeId: string): void {
    const { store } = this.context;
    store.transaction(() => {
      const record = this.findNode(caller, poolId, nodeId);
      store.nodes.update({ ...record, node: enableNodeScheduling(record.node, this.context.now()) });
    });
    this.context.deps.signal.wake();
  }

  /**
   * ComputeNode_Reboot and ComputeNode_Reimage. Requeue (the default) and
   * terminate end the node's tasks now; taskcompletion lets them finish, and
   * retaineddata also waits for their retention times to pass. The restart
   * itself happens in planNodeRestarts.
   */
  restart(caller: Caller, poolId: string, nodeId: string, kind: NodeRestartKind, option: NodeRestartOption = 'requeue'): void {
    const { store } = this.context;
    const stop = store.transaction(() => {
      const record = this.findNode(caller, poolId, nodeId);
      const ending = option === 'requeue' || option === 'terminate' ? option : 'none';
      const { stopped } = this.endTasksThen(record, ending, (current) => beginNodeRestart(current, kind, this.context.now(), option === 'retaineddata'));
      if (kind !== 'deallocating') this.preparation.forgetNode(caller.account, record.node.id, kind === 'reimaging');
      return stopped;
    });
    this.context.deps.nodeWork.stopRuns(stop);
    this.context.deps.signal.wake();
  }

  /** Nodes being rebooted, reimaged or deallocated whose tasks (and, with retaineddata, their files) are done: the provider restarts them now. */
  planNodeRestarts(): { placement: NodePlacement; wipe: boolean; deallocate: boolean }[] {
    return this.context.store.nodes
      .listAll()
      .filter((record) => isRestarting(record.node) && this.isDoneWithTasks(record))
      .map((record) => ({
        placement: { account: record.account, poolId: record.poolId, nodeId: record.node.id },
        wipe: record.node.state === 'reimaging',
        deallocate: record.node.state === 'deallocating',
      }));
  }

  markDeallocated(placement: NodePlacement): void {
    const { store } = this.context;
    store.transaction(() => {
      const record = store.nodes.get(placement.account, placement.poolId, placement.nodeId);
      if (!record || record.node.state !== 'deallocating') return;
      store.nodes.update({ ...record, node: markNodeDeallocated(record.node, this.context.now()) });
    });
  }

  /**
   * ComputeNode_UploadBatchServiceLogs: a local node's service logs are its
   * start task output and a snapshot of its state, uploaded under a virtual
   * directory named for the node and the time.
   */
  async uploadServiceLogs(caller: Caller, poolId: string, nodeId: string, request: { containerUrl: string; startTime: string }): Promise<{ virtualDirectoryName: string; numberOfFilesUploaded: number }> {
    const record = this.findNode(caller, poolId, nodeId);
    const placement = { account: caller.account, poolId: record.poolId, nodeId: record.node.id };
    const files = this.context.deps.provider.nodeFiles(placement);
    const directory = `${record.poolId}/${record.node.id}/${this.context.now().toISOString().replace(/[:.]/g, '-')}`;
    const uploads: { name: string; content: Buffer }[] = [
      { name: 'lapis-node.json', content: Buffer.from(JSON.stringify({ poolId: record.poolId, node: record.node, logsSince: request.startTime }, null, 2)) },
    ];
    for (const name of ['startup/stdout.txt', 'startup/stderr.txt']) {
      const entry = await files?.stat(name);
      if (!files || !entry || entry.isDirectory) continue;
      const chunks: Buffer[] = [];
      for await (const chunk of (await files.read(name)).content) chunks.push(Buffer.from(chunk));
      uploads.push({ name: name.replace('/', '-'), content: Buffer.concat(chunks) });
    }
    try {
      for (const upload of uploads) await this.context.deps.blobUploader.upload(request.containerUrl, `${directory}/${upload.name}`, upload.content);
    } catch (error) {
      throw batchErrors.invalidPropertyValue('containerUrl', `The logs could not be uploaded to the container: ${(error as Error).message.split('\n')[0]}`);
    }
    return { virtualDirectoryName: directory, numberOfFilesUploaded: uploads.length };
  }

  /** ComputeNode_Start (2024-07-01.20.0): a deallocated node starts again. */
  start(caller: Caller, poolId: string, nodeId: string): void {
    const { store } = this.context;
    const placement = store.transaction(() => {
      const record = this.findNode(caller, poolId, nodeId);
      store.nodes.update({ ...record, node: beginNodeStart(record.node, this.context.now()) });
      return { account: caller.account, poolId: record.poolId, nodeId: record.node.id };
    });
    this.context.deps.nodeWork.provision(
      placement,
      () => this.markReady(placement),
      (failure) => this.markUnusable(placement, failure),
    );
  }

  /**
   * Pool_RemoveNodes: the named nodes leave the pool and its targets shrink
   * by as many. Requeue and terminate end their tasks now; taskcompletion and
   * retaineddata let running tasks finish first.
   */
  removeNodes(caller: Caller, poolId: string, request: NodeRemovalRequest, conditions?: Conditions): Pool {
    const { store } = this.context;
    const work: AllocationWork = { provision: [], release: [], stop: [] };
    const pool = store.transaction(() => {
      const poolRecord = store.pools.get(caller.account, poolId);
      if (!poolRecord) throw batchErrors.poolNotFound();
      checkConditions(poolRecord.pool, conditions, 'write');
      const records = request.nodeList.map((nodeId) => {
        const record = store.nodes.get(caller.account, poolId, nodeId);
        if (!record || record.node.state === 'leavingpool') throw batchErrors.nodeNotFound();
        return record;
      });
      const dedicated = records.filter((record) => record.node.isDedicated).length;
      const { now, eTag } = this.context.stamp();
      const { pool: updated, internal } = beginNodeRemoval(poolRecord.pool, { dedicated, lowPriority: records.length - dedicated }, request, now, eTag);
      store.pools.update({ account: caller.account, pool: updated, internal });
      for (const record of records) this.beginRemoval(record, work, request.nodeDeallocationOption ?? 'requeue');
      return updated;
    });
    this.context.deps.nodeWork.stopRuns(work.stop);
    this.context.deps.signal.wake();
    return pool;
  }

  /** Account_ListPoolNodeCounts: one entry per pool, pools in id order. */
  nodeCounts(caller: Caller, page: PageQuery): Page<PoolNodeCounts> {
    const { store } = this.context;
    // The filter names the counts' own properties (poolId), so it applies to them, not to the pools.
    const { filter, ...pageOfPools } = page;
    const pools = store.pools.list(caller.account, pageOfPools);
    return {
      items: pools.items.map(({ pool }) => {
        const counts: PoolNodeCounts = { poolId: pool.id, dedicated: emptyNodeCounts(), lowPriority: emptyNodeCounts() };
        for (const { node } of store.nodes.listByPool(caller.account, pool.id)) {
          const kind = node.isDedicated ? counts.dedicated : counts.lowPriority;
          kind[node.state] += 1;
          kind.total += 1;
        }
        return counts;
      }).filter((counts) => !filter || matchesFilter(filter, counts)),
      continuation: pools.continuation,
    };
  }


  get(caller: Caller, poolId: string, nodeId: string): ComputeNode {
    const { store } = this.context;
    if (!store.pools.get(caller.account, poolId)) throw batchErrors.poolNotFound();
    const record = store.nodes.get(caller.account, poolId, nodeId);
    if (!record) throw batchErrors.nodeNotFound();
    return this.withRecentTasks(record);
  }

  /** A node as answered: its document and its recentTasks, kept apart (core/node-recent-tasks.ts), present once a task has run there. */
  private withRecentTasks(record: NodeRecord): ComputeNode {
    const recentTasks = this.context.store.nodeRecentTasks.list(record.account, record.node.id);
    return recentTasks.length > 0 ? { ...record.node, recentTasks } : record.node;
  }

  list(caller: Caller, poolId: string, page: PageQuery): Page<ComputeNode> {
    const { store } = this.context;
    if (!store.pools.get(caller.account, poolId)) throw batchErrors.poolNotFound();
    const result = store.nodes.list(caller.account, poolId, page);
    return { items: result.items.map((record) => this.withRecentTasks(record)), continuation: result.continuation };
  }

  /**
   * Compares every pool with its targets. New nodes are recorded as
   * `starting` and handed back to provision; surplus nodes (idle ones first)
   * are marked `leavingpool`, their running tasks requeued, and handed back
   * to release. A pool with nothing left to do settles to `steady`; a
   * deleting pool with no nodes left is removed.
   */
  planAllocation(): AllocationWork {
    const work: AllocationWork = { provision: [], release: [], stop: [] };
    const { store } = this.context;
    store.transaction(() => {
      for (const { account, pool, internal } of store.pools.listAll()) {
        if (pool.state === 'active' && pool.allocationState === 'steady') continue;
        const nodes = store.nodes.listByPool(account, pool.id);
        if (pool.state === 'deleting' && nodes.length === 0) {
          store.pools.delete(account, pool.id);
          continue;
        }
        for (const record of nodes) {
          if (record.node.state === 'leavingpool' && this.isDoneWithTasks(record)) {
            work.release.push({ account, poolId: pool.id, nodeId: record.node.id });
          }
        }
        const targets = allocationTargets(pool);
        for (const isDedicated of [true, false]) {
          const live = nodes.filter((record) => record.node.isDedicated === isDedicated && record.node.state !== 'leavingpool');
          const target = isDedicated ? targets.dedicated : targets.lowPriority;
          if (live.length < target && pool.allocationState === 'resizing') {
            for (let index = live.length; index < target; index += 1) {
              work.provision.push(this.addNode(account, pool, isDedicated));
            }
          } else if (live.length > target) {
            for (const record of surplus(live, live.length - target)) this.beginRemoval(record, work, internal.resizeDeallocationOption ?? 'requeue');
          }
        }
        this.recordPoolAllocation(account, pool.id);
      }
    });
    return work;
  }

  private addNode(account: string, pool: Pool, isDedicated: boolean): NodePlacement {
    const nodeId = newNodeId(account, pool.id, isDedicated);
    const node = newNode(nodeId, { vmSize: pool.vmSize, isDedicated, imageReference: pool.virtualMachineConfiguration?.imageReference }, this.context.now());
    this.context.store.nodes.insert({ account, poolId: pool.id, node, internal: {} });
    this.context.store.usage.nodeStarted(account, pool.id, nodeId, pool.vmSize, isDedicated, this.context.now().getTime());
    return { account, poolId: pool.id, nodeId };
  }

  /**
   * Marks a node leaving. Requeue (Batch's default) and terminate end its
   * running tasks and release it now; taskcompletion releases it once its
   * running tasks have finished, retaineddata once, in addition, the
   * retention times of the tasks that ran there have passed (see planAllocation;
   * the scheduler's retention timer brings the pass that releases it).
   */
  private beginRemoval(record: NodeRecord, work: AllocationWork, option: ComputeNodeDeallocationOption): void {
    const waits = option === 'taskcompletion' || option === 'retaineddata';
    const ending = waits ? 'none' : option === 'terminate' ? 'terminate' : 'requeue';
    const { node: leaving, stopped } = this.endTasksThen(record, ending, (current) => markNodeLeaving(current, this.context.now(), option === 'retaineddata'));
    work.stop.push(...stopped);
    if (!waits || this.isDoneWithTasks(leaving)) work.release.push({ account: record.account, poolId: record.poolId, nodeId: record.node.id });
  }

  /**
   * Ends the node's running tasks (`requeue` them, `terminate` them, or
   * `none`: leave them running), then moves the node on with `transition`,
   * applied to the node as those ends left it (their slots freed). A
   * transition that refuses throws, and the caller's transaction undoes the
   * ends with it.
   */
  private endTasksThen(
    record: NodeRecord,
    ending: 'requeue' | 'terminate' | 'none',
    transition: (current: NodeWithInternal) => NodeWithInternal,
  ): { node: NodeRecord; stopped: TaskRunRef[] } {
    const { store } = this.context;
    const stopped: TaskRunRef[] = [];
    if (ending !== 'none') {
      for (const taskRecord of runningTasksOnNode(store, record.account, record.poolId, record.node.id)) {
        stopped.push(...runRefsOf(taskRecord));
        if (ending === 'requeue') requeueRun(this.context, taskRecord);
        else endRun(this.context, taskRecord);
      }
    }
    const fresh = stopped.length > 0 ? (store.nodes.get(record.account, record.poolId, record.node.id) ?? record) : record;
    const next: NodeRecord = { ...fresh, ...transition(fresh) };
    store.nodes.update(next);
    return { node: next, stopped };
  }

  /** A leaving or restarting node goes down once its tasks are done and, with retaineddata, its tasks' files are no longer retained. */
  private isDoneWithTasks(record: NodeRecord): boolean {
    if (record.node.runningTasksCount > 0) return false;
    if (!record.internal.retainsTaskData) return true;
    const retainedUntil = this.context.store.tasks.lastRetentionOnNode(record.account, record.node.id);
    return retainedUntil === undefined || retainedUntil <= this.context.now().getTime();
  }

  /** The nodes whose agents should be heartbeating (see expectsHeartbeat). */
  heartbeatingNodes(): NodePlacement[] {
    return this.context.store.nodes
      .listAll()
      .filter((record) => expectsHeartbeat(record.node))
      .map((record) => ({ account: record.account, poolId: record.poolId, nodeId: record.node.id }));
  }

  /**
   * Nodes whose agents fell silent. As Batch does when it loses contact with
   * a node, each is marked `unknown` and its running tasks go back to the
   * queue (a requeue, never a retry); the caller restarts it through the
   * provider and then calls markReady. Returns the nodes marked (those still
   * expected to heartbeat) and the runs to stop.
   */
  markLost(placements: readonly NodePlacement[]): { lost: NodePlacement[]; stop: TaskRunRef[] } {
    const { store } = this.context;
    const lost: NodePlacement[] = [];
    const stop: TaskRunRef[] = [];
    store.transaction(() => {
      for (const placement of placements) {
        const record = store.nodes.get(placement.account, placement.poolId, placement.nodeId);
        if (!record || !expectsHeartbeat(record.node)) continue;
        stop.push(...this.endTasksThen(record, 'requeue', ({ node, internal }) => ({ node: markNodeLost(node, this.context.now()), internal })).stopped);
        // The restart that recovers the node is a reboot: job preparation runs again.
        this.preparation.forgetNode(placement.account, placement.nodeId, false);
        lost.push(placement);
      }
    });
    if (lost.length > 0) this.context.deps.signal.wake();
    return { lost, stop };
  }

  /**
   * Spot/low-priority nodes whose VMs Batch took back (the named one, or
   * every preemptible one of the pool): each is `preempted` and its running
   * tasks go back to the queue (a requeue, never a retry), as Batch does. The
   * node stays in the pool and counts in currentLowPriorityNodes until
   * restorePreempted; the pool's targets do not change. Returns the nodes
   * preempted and the runs to stop.
   */
  preempt(account: string, poolId: string, nodeId?: string): { preempted: NodePlacement[]; stop: TaskRunRef[] } {
    const { store } = this.context;
    const preempted: NodePlacement[] = [];
    const stop: TaskRunRef[] = [];
    store.transaction(() => {
      if (!store.pools.get(account, poolId)) throw batchErrors.poolNotFound();
      let records: NodeRecord[];
      if (nodeId !== undefined) {
        const record = store.nodes.get(account, poolId, nodeId);
        if (!record) throw batchErrors.nodeNotFound();
        records = [record];
      } else {
        records = store.nodes.listByPool(account, poolId).filter((record) => isPreemptible(record.node));
        if (records.length === 0) throw batchErrors.invalidPropertyValue('poolId', 'The pool has no Spot/low-priority node that can be preempted (targetLowPriorityNodes, and a node that has started).');
      }
      for (const record of records) {
        stop.push(...this.endTasksThen(record, 'requeue', ({ node, internal }) => ({ node: markNodePreempted(node, this.context.now()), internal })).stopped);
        // The node comes back on a fresh VM: job preparation runs again.
        this.preparation.forgetNode(account, record.node.id, true);
        preempted.push({ account, poolId, nodeId: record.node.id });
      }
    });
    this.context.deps.signal.wake();
    return { preempted, stop };
  }

  /** The capacity is back: a node still preempted starts again (the caller restarts it, wiped, then calls markReady). False when it is no longer preempted. */
  restorePreempted(placement: NodePlacement): boolean {
    const { store } = this.context;
    return store.transaction(() => {
      const record = store.nodes.get(placement.account, placement.poolId, placement.nodeId);
      if (!record || record.node.state !== 'preempted') return false;
      store.nodes.update({ ...record, node: markNodeRestarting(record.node, this.context.now()) });
      return true;
    });
  }

  /** A lost node its provider could not restart, a node it could not start (e.g. no container image for its pool), or a reboot, reimage or deallocation that failed. */
  markUnusable(placement: NodePlacement, failure?: unknown): void {
    const { store } = this.context;
    store.transaction(() => {
      const record = store.nodes.get(placement.account, placement.poolId, placement.nodeId);
      if (!record || !['unknown', 'starting', 'creating', 'rebooting', 'reimaging', 'deallocating'].includes(record.node.state)) return;
      store.nodes.update({ ...record, node: markNodeUnusable(record.node, this.context.now(), nodeErrorsOf(failure)) });
    });
  }

  /** A node has booted (or a lost one was restarted): it is ready, and runs its pool's start task if there is one. */
  markReady(placement: NodePlacement): void {
    const { store } = this.context;
    const startRun = store.transaction((): TaskRun | undefined => {
      const record = store.nodes.get(placement.account, placement.poolId, placement.nodeId);
      if (!record || (record.node.state !== 'starting' && record.node.state !== 'unknown' && !isRestarting(record.node))) return undefined;
      const pool = store.pools.get(placement.account, placement.poolId)?.pool;
      let ready = markNodeReady(record, this.context.now());
      if (pool?.startTask) ready = beginStartTask(ready, pool.startTask, this.context.now());
      const next = { ...record, ...ready };
      store.nodes.update(next);
      this.recordPoolAllocation(placement.account, placement.poolId);
      return pool?.startTask ? this.runs.startTaskRun(next, pool.startTask, false) : undefined;
    });
    if (startRun) this.context.deps.nodeWork.startRuns([startRun]);
    this.context.deps.signal.wake();
  }

  /**
   * Records how a node's start task ended: a failure with retries left runs
   * it again in the same directory; otherwise the node's startTaskInfo is
   * completed and a node that waited for it becomes idle or starttaskfailed.
   */
  recordStartTaskOutcome(report: TaskRunReport): void {
    const { store } = this.context;
    const { run, outcome } = report;
    const retry = store.transaction((): TaskRun | undefined => {
      const record = store.nodes.get(run.account, run.poolId, run.nodeId);
      if (!record || record.node.startTaskInfo?.state !== 'running' || record.internal.startTaskAttempt !== run.attempt) return undefined;
      const startTask = store.pools.get(run.account, run.poolId)?.pool.startTask;
      const now = this.context.now();
      if (startTask && earnsRetry(outcome, record.node.startTaskInfo?.retryCount ?? 0, startTask.maxTaskRetryCount ?? 0)) {
        const next = { ...record, ...retryStartTask(record, now) };
        store.nodes.update(next);
        return this.runs.startTaskRun(next, startTask, true);
      }
      store.nodes.update({ ...record, node: completeStartTask(record.node, outcome, now) });
      return undefined;
    });
    if (retry) this.context.deps.nodeWork.startRuns([retry]);
    this.context.deps.signal.wake();
  }

  markRemoved(placement: NodePlacement): void {
    const { store } = this.context;
    store.transaction(() => {
      store.nodes.delete(placement.account, placement.poolId, placement.nodeId);
      store.usage.nodeEnded(placement.account, placement.nodeId, this.context.now().getTime());
      this.recordPoolAllocation(placement.account, placement.poolId);
    });
    this.context.deps.signal.wake();
  }

  private recordPoolAllocation(account: string, poolId: string): void {
    const { store } = this.context;
    const poolRecord = store.pools.get(account, poolId);
    if (!poolRecord) return;
    const { pool } = poolRecord;
    const nodes = store.nodes.listByPool(account, poolId).map((record) => record.node);
    const live = nodes.filter((node) => node.state !== 'leavingpool');
    const current = {
      dedicated: live.filter((node) => node.isDedicated).length,
      lowPriority: live.filter((node) => !node.isDedicated).length,
    };
    const targets = allocationTargets(pool);
    const transient = nodes.some((node) => node.state === 'starting' || node.state === 'leavingpool');
    const reached = pool.allocationState === 'stopping' || (current.dedicated === targets.dedicated && current.lowPriority === targets.lowPriority);
    const settled = reached && !transient;
    const unchanged =
      current.dedicated === pool.currentDedicatedNodes && current.lowPriority === pool.currentLowPriorityNodes && !(settled && pool.allocationState !== 'steady');
    if (unchanged) return;
    const { now, eTag } = this.context.stamp();
    store.pools.update({ ...poolRecord, pool: recordAllocation(pool, current, settled, now, eTag) });
  }

  /**
   * After a restart, once the runs that ended meanwhile are completed
   * (TaskService.recordOutcomesFromBeforeRestart): the runs still running go
   * back to the queue (a requeue, as when Batch loses a node; their leftover
   * processes are ended when their node starts again), nodes start again,
   * and nodes that were leaving are released again.
   */
  recoverAfterRestart(): AllocationWork {
    const work: AllocationWork = { provision: [], release: [], stop: [] };
    const { store } = this.context;
    store.transaction(() => {
      for (const taskRecord of store.tasks.listAllRunning()) {
        requeueRun(this.context, taskRecord);
      }
      for (const record of store.nodes.listAll()) {
        const placement = { account: record.account, poolId: record.poolId, nodeId: record.node.id };
        if (record.node.state === 'leavingpool') {
          work.release.push(placement);
          continue;
        }
        if (record.node.state === 'deallocated') continue;
        store.nodes.update({ ...record, node: markNodeRestarting(record.node, this.context.now()) });
        this.preparation.forgetNode(record.account, record.node.id, false);
        work.provision.push(placement);
      }
    });
    return work;
  }
}

/** Idle nodes leave first, then the least busy. */
function surplus(nodes: NodeRecord[], count: number): NodeRecord[] {
  return [...nodes].sort((a, b) => a.node.runningTasksCount - b.node.runningTasksCount).slice(0, count);
}

/** Batch-style node ids: `tvmps_` + 64 hex digits + `_d` (dedicated) or `_p` (low priority). */
function newNodeId(account: string, poolId: string, isDedicated: boolean): string {
  const digest = createHash('sha256').update(account).update(poolId).update(randomBytes(16)).digest('hex');
  return `tvmps_${digest}_${isDedicated ? 'd' : 'p'}`;
}

function emptyNodeCounts(): NodeCounts {
  const states: ComputeNodeState[] = [
    'creating',
    'idle',
    'offline',
    'preempted',
    'rebooting',
    'reimaging',
    'running',
    'starting',
    'starttaskfailed',
    'leavingpool',
    'unknown',
    'unusable',
    'waitingforstarttask',
    'upgradingos',
    'deallocating',
    'deallocated',
  ];
  return { ...(Object.fromEntries(states.map((state) => [state, 0])) as Record<ComputeNodeState, number>), total: 0 };
}
