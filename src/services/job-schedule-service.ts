// Job schedule use cases: add, get, list, patch, update, disable, enable,
// terminate, delete; and the scheduler's side: creating each job when its run
// falls due, and finishing terminations and deletions.

import { checkJobAdmin } from '../core/admin-tasks.js';
import { checkConditions, type Conditions } from '../core/conditions.js';
import { batchErrors, isBatchError } from '../core/errors.js';
import { assertValidId } from '../core/ids.js';
import { beginJobTermination, createJob, markJobDeleting, type Job } from '../core/job.js';
import {
  advanceSchedule,
  beginJobScheduleTermination,
  changeJobSchedule,
  completeJobSchedule,
  createJobSchedule,
  disableJobSchedule,
  enableJobSchedule,
  markJobScheduleDeleting,
  nextJobId,
  nextWakeTime,
  scheduleStep,
  sharesAutoPool,
  type JobSchedule,
  type JobScheduleChanges,
  type JobScheduleSpec,
  type JobScheduleWithInternal,
} from '../core/job-schedule.js';
import type { JobScheduleRecord, Page, PageQuery } from '../core/ports.js';
import type { Caller, ServiceContext } from './context.js';
import { insertJob } from './job-service.js';
import type { PoolService } from './pool-service.js';

/** Enough jobs per page when a deleted schedule removes its jobs. */
const JOBS_PER_SWEEP = 1000;

export class JobScheduleService {
  constructor(
    private readonly context: ServiceContext,
    private readonly pools: PoolService,
  ) {}

  add(caller: Caller, spec: JobScheduleSpec): JobSchedule {
    assertValidId(spec.id);
    const { now, eTag } = this.context.stamp();
    checkJobAdmin(this.context.deps.adminTasks, spec.jobSpecification, 'jobSpecification', this.jobPool(caller.account, spec.jobSpecification?.poolInfo?.poolId));
    const created = createJobSchedule(spec, now, eTag);
    // The pool is created with the first job; its specification is checked now, as Batch does.
    const autoPool = spec.jobSpecification.poolInfo.autoPoolSpecification;
    if (autoPool) this.pools.checkAutoPool(autoPool, 'jobSpecification.poolInfo.autoPoolSpecification');
    const { store } = this.context;
    store.transaction(() => {
      if (store.jobs.get(caller.account, spec.id)) throw batchErrors.jobWithSameIdExists();
      if (!store.jobSchedules.insert({ account: caller.account, ...created })) throw batchErrors.jobScheduleExists();
    });
    this.context.deps.signal.wake();
    return created.schedule;
  }

  get(caller: Caller, scheduleId: string, conditions?: Conditions): JobSchedule {
    const record = this.context.store.jobSchedules.get(caller.account, scheduleId);
    if (!record) throw batchErrors.jobScheduleNotFound();
    checkConditions(record.schedule, conditions, 'read');
    return record.schedule;
  }

  list(caller: Caller, page: PageQuery): Page<JobSchedule> {
    const result = this.context.store.jobSchedules.list(caller.account, page);
    return { items: result.items.map((record) => record.schedule), continuation: result.continuation };
  }

  /** Job_ListFromJobSchedule. */
  listJobs(caller: Caller, scheduleId: string, page: PageQuery): Page<Job> {
    if (!this.context.store.jobSchedules.get(caller.account, scheduleId)) throw batchErrors.jobScheduleNotFound();
    const result = this.context.store.jobs.listFromSchedule(caller.account, scheduleId, page);
    return { items: result.items.map((record) => record.job), continuation: result.continuation };
  }

  private jobPool(account: string, poolId: string | undefined) {
    return poolId ? this.context.store.pools.get(account, poolId)?.pool : undefined;
  }

  change(caller: Caller, scheduleId: string, changes: JobScheduleChanges, mode: 'patch' | 'update', conditions?: Conditions): JobSchedule {
    checkJobAdmin(this.context.deps.adminTasks, changes.jobSpecification, 'jobSpecification', this.jobPool(caller.account, changes.jobSpecification?.poolInfo?.poolId));
    const autoPool = changes.jobSpecification?.poolInfo.autoPoolSpecification;
    if (autoPool) this.pools.checkAutoPool(autoPool, 'jobSpecification.poolInfo.autoPoolSpecification');
    return this.mutate(caller, scheduleId, conditions, (schedule, now, eTag) => changeJobSchedule(schedule, changes, mode, now, eTag));
  }

  disable(caller: Caller, scheduleId: string, conditions?: Conditions): JobSchedule {
    return this.mutate(caller, scheduleId, conditions, (schedule, now, eTag) => disableJobSchedule(schedule, now, eTag));
  }

  enable(caller: Caller, scheduleId: string, conditions?: Conditions): JobSchedule {
    return this.mutate(caller, scheduleId, conditions, (schedule, now, eTag) => enableJobSchedule(schedule, now, eTag));
  }

  terminate(caller: Caller, scheduleId: string, conditions?: Conditions): JobSchedule {
    return this.mutate(caller, scheduleId, conditions, (schedule, now, eTag) => beginJobScheduleTermination(schedule, now, eTag));
  }

  delete(caller: Caller, scheduleId: string, conditions?: Conditions): void {
    this.mutate(caller, scheduleId, conditions, (schedule, now, eTag) => markJobScheduleDeleting(schedule, now, eTag));
  }

  private mutate(
    caller: Caller,
    scheduleId: string,
    conditions: Conditions | undefined,
    change: (schedule: JobSchedule, now: Date, eTag: string) => JobSchedule,
  ): JobSchedule {
    const { store } = this.context;
    const updated = store.transaction(() => {
      const record = store.jobSchedules.get(caller.account, scheduleId);
      if (!record) throw batchErrors.jobScheduleNotFound();
      checkConditions(record.schedule, conditions, 'write');
      const { now, eTag } = this.context.stamp();
      const schedule = change(record.schedule, now, eTag);
      store.jobSchedules.update({ ...record, schedule });
      return schedule;
    });
    this.context.deps.signal.wake();
    return updated;
  }

  /**
   * The scheduler's sweep: creates the jobs that are due, completes
   * schedules with nothing left to run, and carries terminations and
   * deletions through to their jobs. Returns when a schedule next needs a
   * sweep (epoch ms), if one does.
   */
  settle(): number | undefined {
    const { store } = this.context;
    let nextWake: number | undefined;
    store.transaction(() => {
      for (const record of store.jobSchedules.listByState(['active', 'terminating', 'deleting'])) {
        const settled = this.settleOne(record);
        const wake = settled ? nextWakeTime(settled) : undefined;
        if (wake !== undefined && (nextWake === undefined || wake < nextWake)) nextWake = wake;
      }
    });
    return nextWake;
  }

  private settleOne(record: JobScheduleRecord): JobSchedule | undefined {
    const { store } = this.context;
    const { account, schedule, internal } = record;
    const recentId = schedule.executionInfo.recentJob?.id;
    const recentRecord = recentId ? store.jobs.get(account, recentId) : undefined;
    const recent = recentRecord?.job;
    const hasActiveJob = recent !== undefined && recent.state !== 'completed';
    const { now, eTag } = this.context.stamp();

    if (schedule.state === 'deleting') {
      const jobs = store.jobs.listFromSchedule(account, schedule.id, { maxResults: JOBS_PER_SWEEP }).items;
      for (const record of jobs) {
        if (record.job.state !== 'deleting') store.jobs.update({ ...record, job: markJobDeleting(record.job, now, eTag) });
      }
      if (jobs.length === 0) {
        this.releaseAutoPool(record);
        store.jobSchedules.delete(account, schedule.id);
      }
      // The jobs are removed by the next pass, then the schedule.
      else this.context.deps.signal.wake();
      return undefined;
    }
    if (schedule.state === 'terminating') {
      if (recentRecord && recent && recent.state !== 'completed' && recent.state !== 'terminating' && recent.state !== 'deleting') {
        store.jobs.update({ ...recentRecord, job: beginJobTermination(recent, 'TerminateJobSchedule', now, eTag) });
        this.context.deps.signal.wake();
        return schedule;
      }
      if (hasActiveJob) return schedule;
      const completed = completeJobSchedule(schedule, now, eTag);
      this.releaseAutoPool(record);
      store.jobSchedules.update({ ...record, schedule: completed });
      return completed;
    }

    const step = scheduleStep(schedule, hasActiveJob, now);
    let next: JobScheduleWithInternal = record;
    if (step.kind === 'complete') {
      next = { schedule: completeJobSchedule(schedule, now, eTag), internal };
      this.releaseAutoPool(record);
    } else if (step.kind === 'skip') next = advanceSchedule(record, undefined, now, eTag);
    else if (step.kind === 'createJob') {
      const jobId = nextJobId(record);
      let poolId: string | undefined;
      try {
        poolId = this.autoPoolForJob(record);
        insertJob(this.context, account, createJob({ ...schedule.jobSpecification, id: jobId }, now, eTag, poolId), now, eTag);
        next = advanceSchedule(record, { jobId, jobUrl: `${this.context.deps.publicUrl(account)}/jobs/${jobId}` }, now, eTag);
      } catch (error) {
        if (!isBatchError(error)) throw error;
        // A specification that cannot make a job loses this run, not the whole sweep.
        this.context.deps.logger.warn({ err: error, jobScheduleId: schedule.id }, 'job schedule could not create its job');
        next = advanceSchedule(record, undefined, now, eTag);
        // This sweep's transaction stays open: a pool made for the lost job alone goes again.
        if (poolId && !sharesAutoPool(schedule)) this.pools.releaseAutoPool(account, poolId);
      }
      if (sharesAutoPool(schedule) && poolId) next = { ...next, internal: { ...next.internal, autoPoolId: poolId } };
    }
    if (next !== record) store.jobSchedules.update({ account, ...next });
    return next.schedule;
  }

  /**
   * The auto pool a new job of the schedule runs on: the schedule's shared
   * one (created with its first job) or a new one per job.
   */
  private autoPoolForJob({ account, schedule, internal }: JobScheduleRecord): string | undefined {
    const spec = schedule.jobSpecification.poolInfo.autoPoolSpecification;
    if (!spec) return undefined;
    if (sharesAutoPool(schedule) && internal.autoPoolId) return internal.autoPoolId;
    return this.pools.addAutoPool(account, spec, 'jobSpecification.poolInfo.autoPoolSpecification').id;
  }

  /** A schedule that completes or goes takes its shared auto pool with it, unless keepAlive. */
  private releaseAutoPool({ account, schedule, internal }: JobScheduleRecord): void {
    const keepAlive = schedule.jobSpecification.poolInfo.autoPoolSpecification?.keepAlive;
    if (internal.autoPoolId && sharesAutoPool(schedule) && !keepAlive) this.pools.releaseAutoPool(account, internal.autoPoolId);
  }
}
