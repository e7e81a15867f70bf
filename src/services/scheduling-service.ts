// The scheduler's touches of the store, a dispatch pass in one transaction:
// `snapshots` reads what the planner decides from (and writes nothing);
// `apply` commits a plan, checking each step again since the snapshot was taken:
// preemptions (running tasks requeued), preparation tasks started, then
// assignments (a task's slots taken on its node, a multi-instance task's on
// all of its nodes); `settlePreparingTasksOf` starts tasks whose node has
// prepared for them. The policy itself is pure, in scheduler/planner.ts.

import { idKey } from '../core/ids.js';
import { isJobManager, jobManagerOf, jobManagerSlots } from '../core/job-manager.js';
import { nodePreparation, preparationGatesTasks, preparationTaskOf } from '../core/job-preparation.js';
import type { Job, JobState } from '../core/job.js';
import { instanceCount, multiInstanceOf, startInstances } from '../core/multi-instance.js';
import { freeSlots, isSchedulable } from '../core/node.js';
import type { Pool } from '../core/pool.js';
import type { NodeRecord, TaskRecord, TaskRun, TaskRunRef } from '../core/ports.js';
import type { Assignment, Plan, PoolSnapshot, SnapshotJob, SnapshotRunningTask, SnapshotTask } from '../core/scheduling.js';
import type { TaskNodeInfo } from '../core/task-node-info.js';
import { assignToNode, returnFromPreparation, startAfterPreparation, taskRootDirectory } from '../core/task.js';
import type { ServiceContext } from './context.js';
import type { JobPreparationService } from './job-preparation-service.js';
import type { RunBuilder } from './run-builder.js';
import { noteRunOnNode, occupyRunSlots, releaseRunSlots, requeueRun, runRefsOf } from './task-runs.js';

/** Most waiting tasks of a job one preemption pass makes room for. */
const PREEMPTION_BATCH = 100;
/** The states of the jobs whose tasks may wait on a node for its preparation task. */
const JOBS_WITH_PREPARING_TASKS: JobState[] = ['active', 'disabling', 'disabled', 'enabling', 'terminating'];

/**
 * A pool's snapshot, and the records it was taken from: the pass is one
 * transaction, so they are what the store holds until the plan changes them,
 * and its assignments need not read them again.
 */
interface PlanInput {
  snapshot: PoolSnapshot;
  /** The runnable tasks listed, by taskKey. */
  tasks: Map<string, TaskRecord>;
  /** The pool's nodes, by id. */
  nodes: Map<string, NodeRecord>;
}

export class SchedulingService {
  constructor(
    private readonly context: ServiceContext,
    private readonly runs: RunBuilder,
    private readonly preparation: JobPreparationService,
  ) {}

  /**
   * One dispatch pass, in one transaction (each transaction's locks and
   * commit cost more than a pass's reads and writes): tasks whose node has
   * prepared for them start, then each pool's snapshot is planned by `plan`
   * (the policy, scheduler/planner.ts) and committed. Returns the runs to
   * start and to stop, for after the commit.
   */
  dispatch(plan: (snapshot: PoolSnapshot) => Plan): { runs: TaskRun[]; stop: TaskRunRef[] } {
    const { store } = this.context;
    return store.transaction(() => {
      // Each pool and its jobs are read once, for both steps (settling changes tasks and nodes, not pools or jobs).
      const pools = store.pools.listAll().map(({ account, pool }) => ({
        account,
        pool,
        jobs: store.jobs.listByPool(account, pool.id, JOBS_WITH_PREPARING_TASKS).map(({ job }) => job),
      }));
      const runs: TaskRun[] = [];
      for (const { account, jobs } of pools) this.settlePreparingTasksOf(account, jobs, runs);
      const stop: TaskRunRef[] = [];
      for (const input of this.snapshots(pools)) {
        const planned = plan(input.snapshot);
        if (planned.assignments.length === 0 && planned.preemptions.length === 0 && planned.preparations.length === 0) continue;
        const applied = this.apply(input, planned);
        runs.push(...applied.runs);
        stop.push(...applied.stop);
      }
      return { runs, stop };
    });
  }

  /** Every active pool with something the planner could do: free slots (or preemptable tasks) and runnable tasks. */
  private snapshots(pools: readonly { account: string; pool: Pool; jobs: Job[] }[]): PlanInput[] {
    const { store } = this.context;
    const snapshots: PlanInput[] = [];
    for (const { account, pool, jobs: poolJobs } of pools) {
      if (pool.state !== 'active') continue;
      const jobs = poolJobs.filter((job) => job.state === 'active').sort((a, b) => b.priority - a.priority);
      if (jobs.length === 0) continue;
      const nodeRecords = store.nodes.listByPool(account, pool.id);
      const nodes = nodeRecords.map(({ node }) => ({ nodeId: node.id, freeSlots: freeSlots(node, pool.taskSlotsPerNode), runningTasks: node.runningTasksCount, dedicated: node.isDedicated }));
      const free = nodes.reduce((sum, node) => sum + node.freeSlots, 0);
      const preemption = jobs.some((job) => job.allowTaskPreemption) ? this.preemptionOf(account, jobs, nodes.map((node) => node.nodeId)) : undefined;
      // As many runnable tasks as the pool could take, preemption included.
      const bound = free + (preemption?.running.reduce((sum, task) => sum + task.slotsHeld, 0) ?? 0);
      if (bound === 0) continue;
      const snapshotJobs = jobs.map((job) => this.snapshotJobOf(account, job));
      const roomOf = new Map(snapshotJobs.map((job) => [job.id.toLowerCase(), job.parallelRoom]));
      const runnable: SnapshotTask[][] = [];
      const taskRecords = new Map<string, TaskRecord>();
      for (const group of groupByPriority(jobs)) {
        const open = group.filter((job) => (roomOf.get(job.id.toLowerCase()) ?? 0) > 0);
        if (open.length === 0) continue;
        const byId = new Map(open.map((job) => [job.id.toLowerCase(), job]));
        const listed = store.tasks.listRunnable(account, open.map((job) => job.id), bound);
        for (const record of listed) taskRecords.set(taskKey(account, record.jobId, record.task.id), record);
        runnable.push(listed.map((record) => taskOf(record, byId.get(record.jobId.toLowerCase()), pool.taskSlotsPerNode)));
      }
      if (runnable.every((group) => group.length === 0)) continue;
      // Where preparation tasks stand is read only for jobs with something to place.
      const withTasks = new Set(runnable.flat().map((task) => task.jobId.toLowerCase()));
      for (const [index, job] of jobs.entries()) {
        const snapshotJob = snapshotJobs[index] as SnapshotJob;
        if (!preparationTaskOf(job) || !withTasks.has(job.id.toLowerCase())) continue;
        const states: NonNullable<SnapshotJob['preparation']>['nodes'] = {};
        for (const node of nodes) {
          const status = store.jobNodeStatus.get(account, job.id, node.nodeId)?.status;
          states[node.nodeId] = status ? nodePreparation(job, status) : 'unstarted';
        }
        snapshotJob.preparation = { nodes: states, gatesTasks: preparationGatesTasks(job) };
      }
      snapshots.push({
        snapshot: { account, poolId: pool.id, nodeFillType: pool.taskSchedulingPolicy.nodeFillType, nodes, jobs: snapshotJobs, runnable, ...(preemption ? { preemption } : {}) },
        tasks: taskRecords,
        nodes: new Map(nodeRecords.map((record) => [record.node.id, record])),
      });
    }
    return snapshots;
  }

  /**
   * Commits a pool's plan in one transaction. Each step is checked again: a
   * task to preempt must still run the same attempt, a node to prepare must
   * not have begun meanwhile, an assignment must still fit (commitAssignments).
   * Returns the runs to start and the runs to stop.
   */
  private apply(input: PlanInput, plan: Plan): { runs: TaskRun[]; stop: TaskRunRef[] } {
    const { store } = this.context;
    const { snapshot } = input;
    return store.transaction(() => {
      const runs: TaskRun[] = [];
      const stop: TaskRunRef[] = [];
      for (const victim of plan.preemptions) {
        const record = store.tasks.get(snapshot.account, victim.jobId, victim.taskId);
        if (!record || record.task.state !== 'running' || record.attempt !== victim.attempt) continue;
        stop.push(...runRefsOf(record));
        requeueRun(this.context, record);
      }
      for (const { jobId, nodeId } of plan.preparations) {
        const run = this.preparation.startPreparation(snapshot.account, snapshot.poolId, jobId, nodeId);
        if (run) runs.push(run);
      }
      // Preemptions and preparations change tasks and nodes: then the assignments read them afresh.
      const unchanged = plan.preemptions.length === 0 && plan.preparations.length === 0;
      runs.push(...this.commitAssignments(plan.assignments, unchanged ? input : undefined));
      return { runs, stop };
    });
  }

  /**
   * Commits a placement plan in one transaction. Each assignment is checked
   * again (task still active, node still has room): against the snapshot's
   * records when nothing changed them since (`read`), else read afresh;
   * each node is read once, and kept as this plan leaves it.
   */
  private commitAssignments(assignments: Assignment[], read?: PlanInput): TaskRun[] {
    const { store } = this.context;
    return store.transaction(() => {
      const runs: TaskRun[] = [];
      // A plan places many tasks of a few jobs on a few nodes of one pool: each job and pool is read once.
      const jobs = new Map<string, ReturnType<typeof store.jobs.get>>();
      const pools = new Map<string, ReturnType<typeof store.pools.get>>();
      const nodes = new Map<string, NodeRecord | undefined>(read?.nodes);
      const once = <T>(cache: Map<string, T>, key: string, read: () => T): T => {
        if (!cache.has(key)) cache.set(key, read());
        return cache.get(key) as T;
      };
      for (const assignment of assignments) {
        const key = taskKey(assignment.account, assignment.jobId, assignment.taskId);
        const taskRecord = read?.tasks.get(key) ?? store.tasks.get(assignment.account, assignment.jobId, assignment.taskId);
        // Taken once: a second assignment of the same task would read it as it is now (running).
        read?.tasks.delete(key);
        const jobRecord = once(jobs, `${assignment.account}\n${idKey(assignment.jobId)}`, () => store.jobs.get(assignment.account, assignment.jobId));
        const poolRecord = once(pools, `${assignment.account}\n${idKey(assignment.poolId)}`, () => store.pools.get(assignment.account, assignment.poolId));
        const nodeRecord = once(nodes, assignment.nodeId, () => store.nodes.get(assignment.account, assignment.poolId, assignment.nodeId));
        if (!taskRecord || !jobRecord || !poolRecord || !nodeRecord) continue;
        if (taskRecord.task.state !== 'active' || jobRecord.job.state !== 'active') continue;
        if (assignment.nodeIds) {
          runs.push(...this.commitInstances(taskRecord, jobRecord.job, poolRecord.pool, assignment.nodeIds));
          for (const nodeId of assignment.nodeIds) nodes.delete(nodeId);
          continue;
        }
        const manager = isJobManager(jobRecord.job, taskRecord.task) ? jobManagerOf(jobRecord.job) : undefined;
        const slots = manager ? jobManagerSlots(manager, taskRecord.task, poolRecord.pool.taskSlotsPerNode) : taskRecord.task.requiredSlots;
        if (freeSlots(nodeRecord.node, poolRecord.pool.taskSlotsPerNode) < slots) continue;
        const preparation = this.preparation.preparationOn(assignment.account, jobRecord.job, nodeRecord.node.id);
        if (preparation === 'unavailable') continue;
        const { now, eTag } = this.context.stamp();
        const directory = taskRootDirectory(jobRecord.job.id, taskRecord.task.id);
        const state = preparation === 'ready' ? 'running' : 'preparing';
        const task = assignToNode(taskRecord.task, this.runs.nodeInfoOf(taskRecord.account, poolRecord.pool, nodeRecord.node, directory), now, eTag, state);
        const record: TaskRecord = { ...taskRecord, attempt: taskRecord.attempt + 1, task, internal: { ...taskRecord.internal, slotsHeld: slots } };
        store.tasks.update(record);
        const [occupied] = occupyRunSlots(store, record, [nodeRecord], now);
        nodes.set(nodeRecord.node.id, occupied);
        // A preparing task holds its slots and starts when its node has prepared (settlePreparingTasks).
        if (state === 'running') runs.push(this.runs.taskRun(record, jobRecord.job, directory, false, poolRecord.pool));
      }
      return runs;
    });
  }

  /**
   * Tasks waiting on a node for their job's preparation task (`preparing`)
   * start once it has succeeded there, and go back to the queue, to be placed
   * anew, when it failed there, the node went or stopped taking tasks, or
   * their job is no longer active.
   */
  private settlePreparingTasksOf(account: string, jobs: readonly Job[], runs: TaskRun[]): void {
    const { store } = this.context;
    for (const job of jobs) {
      if (!preparationTaskOf(job)) continue;
      for (const record of store.tasks.listByState(account, job.id, 'preparing')) {
        const nodeInfo = record.task.nodeInfo;
        const node = nodeInfo ? store.nodes.get(account, nodeInfo.poolId, nodeInfo.nodeId)?.node : undefined;
        const preparation = node && nodeInfo && isSchedulable(node) && job.state === 'active' ? this.preparation.preparationOn(account, job, node.id) : 'unavailable';
        if (preparation === 'preparing') continue;
        const { now, eTag } = this.context.stamp();
        if (preparation === 'ready' && nodeInfo) {
          const started: TaskRecord = { ...record, task: startAfterPreparation(record.task, now, eTag) };
          store.tasks.update(started);
          noteRunOnNode(store, nodeInfo.nodeId, started);
          runs.push(this.runs.taskRun(started, job, nodeInfo.taskRootDirectory, false));
          continue;
        }
        const returned = returnFromPreparation(record, now, eTag);
        releaseRunSlots(store, record, returned.task, now);
        store.tasks.update({ ...record, ...returned });
      }
    }
  }

  /** Starts a multi-instance task on all its nodes at once: each instance runs the coordination command first. */
  private commitInstances(taskRecord: TaskRecord, job: Job, pool: Pool, nodeIds: string[]): TaskRun[] {
    const { store } = this.context;
    const nodeRecords = nodeIds.map((nodeId) => store.nodes.get(taskRecord.account, pool.id, nodeId));
    const slots = taskRecord.task.requiredSlots;
    if (nodeRecords.some((record) => !record || freeSlots(record.node, pool.taskSlotsPerNode) < slots)) return [];
    const { now, eTag } = this.context.stamp();
    const directory = taskRootDirectory(job.id, taskRecord.task.id);
    const nodeInfos = (nodeRecords as NodeRecord[]).map((record) => this.runs.nodeInfoOf(record.account, pool, record.node, directory));
    const started = assignToNode(taskRecord.task, nodeInfos[0] as TaskNodeInfo, now, eTag);
    const record: TaskRecord = {
      ...taskRecord,
      attempt: taskRecord.attempt + 1,
      task: started,
      internal: { ...taskRecord.internal, slotsHeld: slots, instances: startInstances(nodeInfos, now) },
    };
    store.tasks.update(record);
    occupyRunSlots(store, record, nodeRecords as NodeRecord[], now);
    const settings = multiInstanceOf(record.task);
    if (!settings?.coordinationCommandLine) {
      // Nothing to coordinate: the primary runs the application at once; the subtasks hold their nodes.
      for (const instance of record.internal.instances ?? []) instance.coordinated = true;
      store.tasks.update(record);
      return [this.runs.instanceRun(record, job, 0, 'application')];
    }
    return nodeInfos.map((_, id) => this.runs.instanceRun(record, job, id, 'coordination'));
  }

  /** Running tasks of the jobs that allow preemption, and the slots each job's waiting tasks need. */
  private preemptionOf(account: string, jobs: Job[], nodeIds: string[]): NonNullable<PoolSnapshot['preemption']> {
    const { store } = this.context;
    const preemptable = new Set(jobs.filter((job) => job.allowTaskPreemption).map((job) => job.id.toLowerCase()));
    const running = new Map<string, SnapshotRunningTask>();
    for (const nodeId of nodeIds) {
      for (const record of store.tasks.listRunningOnNode(account, nodeId)) {
        const key = `${record.jobId.toLowerCase()}\n${record.task.id.toLowerCase()}`;
        if (!preemptable.has(record.jobId.toLowerCase()) || running.has(key)) continue;
        running.set(key, {
          jobId: record.jobId,
          taskId: record.task.id,
          attempt: record.attempt,
          slotsHeld: record.internal.slotsHeld ?? record.task.requiredSlots,
          nodeIds: record.internal.instances ? record.internal.instances.map((instance) => instance.nodeInfo.nodeId) : [nodeId],
        });
      }
    }
    const waitingSlots: Record<string, number> = {};
    for (const job of jobs) {
      waitingSlots[job.id.toLowerCase()] = store.tasks.listRunnable(account, [job.id], PREEMPTION_BATCH).reduce((sum, record) => sum + record.task.requiredSlots, 0);
    }
    return { running: [...running.values()], waitingSlots };
  }

  private snapshotJobOf(account: string, job: Job): SnapshotJob {
    const parallelRoom = job.maxParallelTasks === -1 ? Number.MAX_SAFE_INTEGER : Math.max(0, job.maxParallelTasks - this.context.store.tasks.counts(account, job.id).tasks.running);
    return { id: job.id, priority: job.priority, allowTaskPreemption: job.allowTaskPreemption === true, parallelRoom };
  }
}

function taskOf(record: TaskRecord, job: Job | undefined, taskSlotsPerNode: number): SnapshotTask {
  const manager = job && isJobManager(job, record.task) ? jobManagerOf(job) : undefined;
  return {
    jobId: record.jobId,
    taskId: record.task.id,
    requiredSlots: manager ? jobManagerSlots(manager, record.task, taskSlotsPerNode) : record.task.requiredSlots,
    instances: instanceCount(record.task),
    dedicatedOnly: manager?.allowLowPriorityNode === false,
  };
}

function taskKey(account: string, jobId: string, taskId: string): string {
  return `${account}\n${idKey(jobId)}\n${idKey(taskId)}`;
}

function groupByPriority(jobs: Job[]): Job[][] {
  const groups: Job[][] = [];
  for (const job of jobs) {
    const last = groups[groups.length - 1];
    if (last && last[0]?.priority === job.priority) last.push(job);
    else groups.push([job]);
  }
  return groups;
}
