// Job use cases: add, get, list, delete, terminate; and the second half of
// terminate and delete, which the scheduler drives: end the running tasks,
// remove their files, then complete or remove the job.

import { checkJobAdmin } from '../core/admin-tasks.js';
import { autoPoolEndingWithJob, checkJobAutoPoolLifetime } from '../core/auto-pool.js';
import { checkConditions, type Conditions } from '../core/conditions.js';
import { jobManagerOf, jobManagerTaskSpec } from '../core/job-manager.js';
import { createTask } from '../core/task.js';
import { batchErrors } from '../core/errors.js';
import { assertValidId } from '../core/ids.js';
import {
  beginJobDisable,
  beginJobTermination,
  checkPoolInformation,
  completeJob,
  completeJobDisable,
  createJob,
  enableJob,
  markJobDeleting,
  patchJob,
  updateJob,
  type DisableJobOption,
  type Job,
  type JobChanges,
  type JobSpec,
  type JobState,
  type JobWithInternal,
} from '../core/job.js';
import type { Page, PageQuery, TaskCounts, TaskRun, TaskRunRef } from '../core/ports.js';
import { isUnlimited, parseDuration } from '../core/time.js';
import type { Caller, ServiceContext } from './context.js';
import type { JobPreparationService } from './job-preparation-service.js';
import type { PoolService } from './pool-service.js';
import { completeJobIfDone, endRun, requeueRun, runRefsOf, taskFilesOf, type TaskFiles } from './task-runs.js';

export class JobService {
  constructor(
    private readonly context: ServiceContext,
    private readonly preparation: JobPreparationService,
    private readonly pools: PoolService,
  ) {}

  add(caller: Caller, spec: JobSpec): Job {
    assertValidId(spec.id);
    const { now, eTag } = this.context.stamp();
    checkPoolInformation(spec.poolInfo, 'poolInfo');
    if (spec.poolInfo.autoPoolSpecification) checkJobAutoPoolLifetime(spec.poolInfo.autoPoolSpecification, 'poolInfo.autoPoolSpecification');
    const job = this.context.store.transaction(() => {
      if (this.context.store.jobSchedules.get(caller.account, spec.id)) throw batchErrors.jobScheduleWithSameIdExists();
      const pool = spec.poolInfo.poolId ? this.context.store.pools.get(caller.account, spec.poolInfo.poolId)?.pool : undefined;
      checkJobAdmin(this.context.deps.adminTasks, spec, '', pool);
      // The auto pool is created in the job's transaction: a refused job leaves no pool behind.
      const autoPool = spec.poolInfo.autoPoolSpecification
        ? this.pools.addAutoPool(caller.account, spec.poolInfo.autoPoolSpecification, 'poolInfo.autoPoolSpecification')
        : undefined;
      const created = createJob(spec, now, eTag, autoPool?.id);
      if (!insertJob(this.context, caller.account, created, now, eTag)) throw batchErrors.jobExists();
      return this.context.store.jobs.get(caller.account, created.id)?.job ?? created;
    });
    this.context.deps.signal.wake();
    return job;
  }

  /**
   * Whether the job a task authentication token was issued for is still the
   * job of that id: a token names the job by its id and creation time, so a
   * job deleted and added again with the same id refuses the old job's tokens.
   */
  isCurrentJob(account: string, jobId: string, creationTime: string): boolean {
    const record = this.context.store.jobs.get(account, jobId);
    return record !== undefined && record.job.creationTime === creationTime;
  }

  get(caller: Caller, jobId: string, conditions?: Conditions): Job {
    const record = this.context.store.jobs.get(caller.account, jobId);
    if (!record) throw batchErrors.jobNotFound();
    checkConditions(record.job, conditions, 'read');
    return record.job;
  }

  list(caller: Caller, page: PageQuery): Page<Job> {
    const result = this.context.store.jobs.list(caller.account, page);
    return { items: result.items.map((record) => record.job), continuation: result.continuation };
  }

  terminate(caller: Caller, jobId: string, reason: string | undefined, conditions?: Conditions): Job {
    return this.mutate(caller, jobId, conditions, (job, now, eTag) => beginJobTermination(job, reason ?? 'UserTerminate', now, eTag));
  }

  patch(caller: Caller, jobId: string, changes: JobChanges, conditions?: Conditions): Job {
    checkJobAdmin(this.context.deps.adminTasks, { poolInfo: changes.poolInfo });
    return this.changeSettings(caller, jobId, conditions, (job, now, eTag) => patchJob(job, changes, now, eTag));
  }

  update(caller: Caller, jobId: string, changes: JobChanges, conditions?: Conditions): Job {
    checkJobAdmin(this.context.deps.adminTasks, { poolInfo: changes.poolInfo });
    return this.changeSettings(caller, jobId, conditions, (job, now, eTag) => updateJob(job, changes, now, eTag));
  }

  /** Job_Patch and Job_Update: a job set to terminatejob whose tasks are all complete (or that has none) terminates at once. */
  private changeSettings(caller: Caller, jobId: string, conditions: Conditions | undefined, change: (job: Job, now: Date, eTag: string) => Job): Job {
    return this.context.store.transaction(() => {
      const changed = this.mutate(caller, jobId, conditions, change);
      completeJobIfDone(this.context, caller.account, jobId);
      return this.context.store.jobs.get(caller.account, jobId)?.job ?? changed;
    });
  }

  disable(caller: Caller, jobId: string, option: DisableJobOption, conditions?: Conditions): Job {
    return this.mutateWithInternal(caller, jobId, conditions, (current, now, eTag) => beginJobDisable(current, option, now, eTag));
  }

  enable(caller: Caller, jobId: string, conditions?: Conditions): Job {
    return this.mutateWithInternal(caller, jobId, conditions, (current, now, eTag) => enableJob(current, now, eTag));
  }

  /** Job_GetTaskCounts: tasks and the slots they need, by state. */
  taskCounts(caller: Caller, jobId: string): { tasks: TaskCounts; slots: TaskCounts } {
    if (!this.context.store.jobs.get(caller.account, jobId)) throw batchErrors.jobNotFound();
    return this.context.store.tasks.counts(caller.account, jobId);
  }

  /** The account's jobs by state and all their tasks by state (the dashboard's overview): two queries over kept counts, whatever the number of jobs. */
  accountSummary(caller: Caller): { jobs: Partial<Record<JobState, number>>; tasks: TaskCounts } {
    const { store } = this.context;
    return { jobs: store.jobs.countByState(caller.account), tasks: store.tasks.accountCounts(caller.account) };
  }

  delete(caller: Caller, jobId: string, conditions?: Conditions): void {
    this.mutate(caller, jobId, conditions, (job, now, eTag) => markJobDeleting(job, now, eTag));
  }

  /** A change to the job's document; its internal part stays as it is. */
  private mutate(caller: Caller, jobId: string, conditions: Conditions | undefined, change: (job: Job, now: Date, eTag: string) => Job): Job {
    return this.mutateWithInternal(caller, jobId, conditions, ({ job, internal }, now, eTag) => ({ job: change(job, now, eTag), internal }));
  }

  private mutateWithInternal(
    caller: Caller,
    jobId: string,
    conditions: Conditions | undefined,
    change: (current: JobWithInternal, now: Date, eTag: string) => JobWithInternal,
  ): Job {
    const updated = this.context.store.transaction(() => {
      const record = this.context.store.jobs.get(caller.account, jobId);
      if (!record) throw batchErrors.jobNotFound();
      checkConditions(record.job, conditions, 'write');
      const { now, eTag } = this.context.stamp();
      const next = change(record, now, eTag);
      this.context.store.jobs.update({ account: caller.account, ...next });
      return next.job;
    });
    this.context.deps.signal.wake();
    return updated;
  }

  /**
   * Terminates the jobs that ran longer than their constraints'
   * maxWallClockTime (counted from creation, as Batch does); returns when the
   * next deadline falls (epoch ms).
   */
  enforceDeadlines(): number | undefined {
    const { store } = this.context;
    let next: number | undefined;
    store.transaction(() => {
      const now = this.context.now().getTime();
      for (const record of store.jobs.listByState(['active', 'disabling', 'disabled', 'enabling'])) {
        const { job } = record;
        const limit = parseDuration(job.constraints.maxWallClockTime);
        if (limit === undefined || isUnlimited(limit)) continue;
        const deadline = Date.parse(job.creationTime) + limit;
        if (deadline <= now) {
          const { now: time, eTag } = this.context.stamp();
          store.jobs.update({ ...record, job: beginJobTermination(job, 'MaxWallClockTimeExpiry', time, eTag) });
          this.context.deps.signal.wake();
        } else if (next === undefined || deadline < next) next = deadline;
      }
    });
    return next;
  }

  /**
   * Finishes disables, terminations and deletions: running tasks are
   * requeued, ended (completed with TaskEnded) or waited for, then the job is
   * disabled, completes or disappears. Returns the runs to stop and the task
   * directories to remove.
   */
  settleEndingJobs(): { stop: TaskRunRef[]; removeFiles: TaskFiles[]; releases: TaskRun[] } {
    const stop: TaskRunRef[] = [];
    const removeFiles: TaskFiles[] = [];
    const releases: TaskRun[] = [];
    const { store } = this.context;
    store.transaction(() => {
      for (const jobRecord of store.jobs.listByState(['disabling', 'terminating', 'deleting'])) {
        const { account, job, internal } = jobRecord;
        // A task waiting on a node for the job preparation task holds slots there, as a running one does.
        const running = [...store.tasks.listByState(account, job.id, 'running'), ...store.tasks.listByState(account, job.id, 'preparing')];
        if (job.state === 'disabling' && internal.disableTasks === 'wait') {
          if (running.length > 0) continue;
        } else {
          for (const record of running) {
            stop.push(...runRefsOf(record));
            if (job.state === 'disabling' && internal.disableTasks === 'requeue') requeueRun(this.context, record);
            else endRun(this.context, record);
          }
        }
        const { now, eTag } = this.context.stamp();
        if (job.state === 'disabling') {
          store.jobs.update({ account, ...completeJobDisable(jobRecord, now, eTag) });
          continue;
        }
        // An ending job waits for its release task on every node that ran its preparation task.
        if (this.preparation.releaseNodes(account, job, releases)) continue;
        this.releaseAutoPool(account, job);
        if (job.state === 'terminating') {
          store.jobs.update({ ...jobRecord, job: completeJob(job, now, eTag) });
          continue;
        }
        for (const state of ['completed', 'active'] as const) {
          for (const record of store.tasks.listByState(account, job.id, state)) {
            const files = taskFilesOf(record);
            if (files) removeFiles.push(files);
          }
        }
        for (const { status } of store.jobNodeStatus.listByJob(account, job.id)) {
          removeFiles.push({
            placement: { account, poolId: status.poolId, nodeId: status.nodeId },
            path: `workitems/${job.id}`,
          });
        }
        store.jobNodeStatus.deleteByJob(account, job.id);
        store.tasks.deleteByJob(account, job.id);
        store.jobs.delete(account, job.id);
      }
    });
    return { stop, removeFiles, releases };
  }

  /** A job that completes or goes takes its auto pool with it (lifetime 'job', no keepAlive). */
  private releaseAutoPool(account: string, job: Job): void {
    const poolId = autoPoolEndingWithJob(job.poolInfo, job.executionInfo.poolId);
    if (poolId) this.pools.releaseAutoPool(account, poolId);
  }
}

/**
 * Stores a new job with its job manager task, if it has one, as its first
 * task; the manager is checked first, so the job is stored whole or not at
 * all. False when a job with the id exists.
 */
export function insertJob(context: ServiceContext, account: string, job: Job, now: Date, eTag: string): boolean {
  const manager = jobManagerOf(job);
  if (manager) assertValidId(manager.id);
  const managerTask = manager ? createTask({ ...jobManagerTaskSpec(manager), id: manager.id }, job, now, eTag) : undefined;
  if (!context.store.jobs.insert({ account, job, internal: {} })) return false;
  if (managerTask) context.store.tasks.insert({ account, jobId: job.id, attempt: 0, task: managerTask, internal: {} });
  // A job with no tasks has all its tasks complete (the spec, onAllTasksComplete): with terminatejob and no job manager it ends at once.
  completeJobIfDone(context, account, job.id);
  return true;
}
