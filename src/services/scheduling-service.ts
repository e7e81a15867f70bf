// The scheduler's two touches of the store: `snapshots` reads what the
// planner decides from (and writes nothing), `apply` commits a plan in one
// transaction, checking each step again since the snapshot was taken:
// preemptions (running tasks requeued), preparation tasks started, then
// assignments. The policy itself is pure, in scheduler/planner.ts.

import { preparationGatesTasks, preparationTaskOf, nodePreparation } from '../core/job-preparation.js';
import { isJobManager, jobManagerOf, jobManagerSlots } from '../core/job-manager.js';
import type { Job } from '../core/job.js';
import { instanceCount } from '../core/multi-instance.js';
import { freeSlots } from '../core/node.js';
import type { TaskRecord, TaskRun, TaskRunRef } from '../core/ports.js';
import type { Plan, PoolSnapshot, SnapshotJob, SnapshotRunningTask, SnapshotTask } from '../core/scheduling.js';
import type { ServiceContext } from './context.js';
import type { JobPreparationService } from './job-preparation-service.js';
import { requeueRun, runRefsOf } from './task-runs.js';
import type { TaskService } from './task-service.js';

/** Most waiting tasks of a job one preemption pass makes room for. */
const PREEMPTION_BATCH = 100;

export class SchedulingService {
  constructor(
    private readonly context: ServiceContext,
    private readonly tasks: TaskService,
    private readonly preparation: JobPreparationService,
  ) {}

  /** Every active pool with something the planner could do: free slots (or preemptable tasks) and runnable tasks. */
  snapshots(): PoolSnapshot[] {
    const { store } = this.context;
    const snapshots: PoolSnapshot[] = [];
    store.transaction(() => {
      for (const { account, pool } of store.pools.listAll()) {
        if (pool.state !== 'active') continue;
        const jobs = store.jobs
          .listByPool(account, pool.id, ['active'])
          .map(({ job }) => job)
          .sort((a, b) => b.priority - a.priority);
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
        for (const group of groupByPriority(jobs)) {
          const open = group.filter((job) => (roomOf.get(job.id.toLowerCase()) ?? 0) > 0);
          if (open.length === 0) continue;
          const byId = new Map(open.map((job) => [job.id.toLowerCase(), job]));
          runnable.push(
            store.tasks.listRunnable(account, open.map((job) => job.id), bound).map((record) => taskOf(record, byId.get(record.jobId.toLowerCase()), pool.taskSlotsPerNode)),
          );
        }
        if (runnable.every((group) => group.length === 0)) continue;
        // Where preparation tasks stand is read only for jobs with something to place.
        const withTasks = new Set(runnable.flat().map((task) => task.jobId.toLowerCase()));
        for (const [index, job] of jobs.entries()) {
          const snapshotJob = snapshotJobs[index] as SnapshotJob;
          if (!preparationTaskOf(job) || !withTasks.has(job.id.toLowerCase())) continue;
          const states: NonNullable<SnapshotJob['preparation']>['nodes'] = {};
          for (const node of nodes) {
            const status = store.jobNodeStatus.get(account, job.id, node.nodeId);
            states[node.nodeId] = status ? nodePreparation(job, status) : 'unstarted';
          }
          snapshotJob.preparation = { nodes: states, gatesTasks: preparationGatesTasks(job) };
        }
        snapshots.push({ account, poolId: pool.id, nodeFillType: pool.taskSchedulingPolicy.nodeFillType, nodes, jobs: snapshotJobs, runnable, ...(preemption ? { preemption } : {}) });
      }
    });
    return snapshots;
  }

  /**
   * Commits a pool's plan in one transaction. Each step is checked again: a
   * task to preempt must still run the same attempt, a node to prepare must
   * not have begun meanwhile, an assignment must still fit (commitAssignments).
   * Returns the runs to start and the runs to stop.
   */
  apply(snapshot: PoolSnapshot, plan: Plan): { runs: TaskRun[]; stop: TaskRunRef[] } {
    const { store } = this.context;
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
      runs.push(...this.tasks.commitAssignments(plan.assignments));
      return { runs, stop };
    });
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
          slotsHeld: record.task.slotsHeld ?? record.task.requiredSlots,
          nodeIds: record.task.instances ? record.task.instances.map((instance) => instance.nodeInfo.nodeId) : [nodeId],
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

function groupByPriority(jobs: Job[]): Job[][] {
  const groups: Job[][] = [];
  for (const job of jobs) {
    const last = groups[groups.length - 1];
    if (last && last[0]?.priority === job.priority) last.push(job);
    else groups.push([job]);
  }
  return groups;
}
