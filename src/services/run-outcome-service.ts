// What a node reports when a run ends, recorded: a task completes, earns a
// retry on the same node, or (one instance of a multi-instance task) moves
// its task on; exit conditions act on the job; the server's own backstop
// for maxWallClockTime; and, at start, the runs that ended while no server
// was there to hear it.

import { beginJobDisable, beginJobTermination, type Job } from '../core/job.js';
import { isJobManager, jobManagerOf } from '../core/job-manager.js';
import { completeInstance } from '../core/multi-instance.js';
import type { JobRecord, TaskRecord, TaskRun, TaskRunRef, TaskRunReport } from '../core/ports.js';
import { completeTask, completionJobAction, MAX_WALL_CLOCK_TIME_EXPIRED, retryTask, shouldRetry, type Task } from '../core/task.js';
import { formatTimestamp, isUnlimited, parseDuration } from '../core/time.js';
import type { ServiceContext } from './context.js';
import type { RunBuilder } from './run-builder.js';
import { completeJobIfDone, recordTaskUsage, releaseRunSlots, runRefOf, runRefsOf } from './task-runs.js';

export class RunOutcomeService {
  constructor(
    private readonly context: ServiceContext,
    private readonly runs: RunBuilder,
  ) {}

  /** Records the end of one run (recordRunOutcomes). */
  recordRunOutcome(report: TaskRunReport): void {
    this.recordRunOutcomes([report]);
  }

  /**
   * Records the ends of runs that arrived together in one transaction: its
   * commit, not the work, was most of a trivial task's cost on the server.
   * The slots they free are filled in the same transaction (the scheduler's
   * dispatch pass, SchedulerSignal.dispatchWithin). The runs a batch starts
   * or stops go out after the commit. Reports for a run the server no longer
   * expects (the task was requeued, ended or deleted meanwhile) are ignored.
   */
  recordRunOutcomes(reports: readonly TaskRunReport[]): void {
    try {
      this.storeRunOutcomes(reports, true);
    } catch {
      // Nothing of it was stored. The outcomes alone, then: a dispatch pass that fails must not hold them up (it runs
      // again after them, and logs); this throws when the store refuses the outcomes themselves (a full disk).
      this.storeRunOutcomes(reports, false);
    }
  }

  private storeRunOutcomes(reports: readonly TaskRunReport[], fillSlots: boolean): void {
    const start: TaskRun[] = [];
    const stop: TaskRunRef[] = [];
    let instanceEnded = false;
    let slotsFreed = false;
    let afterDispatch: (() => void) | undefined;
    const { nodeWork, signal } = this.context.deps;
    this.context.store.transaction(() => {
      for (const report of reports) {
        if (report.run.instance) {
          const instance = this.recordInstanceOutcome(report);
          start.push(...instance.runs);
          stop.push(...instance.stop);
          instanceEnded = true;
          continue;
        }
        const retry = this.storeRunOutcome(report);
        if (retry) start.push(retry);
        else slotsFreed = true;
      }
      if (fillSlots && slotsFreed && !instanceEnded) afterDispatch = signal.dispatchWithin?.();
    });
    nodeWork.startRuns(start);
    nodeWork.stopRuns(stop);
    afterDispatch?.();
    if (instanceEnded) signal.wake();
    else if (slotsFreed && !afterDispatch) signal.slotsFreed();
  }

  /**
   * At server start: runs that ended while the server was down, as their
   * nodes recorded them, complete as if reported then. A retry one earns is
   * not started here: it stays running and NodeService.recoverAfterRestart
   * requeues it with every other run that was in flight.
   */
  recordOutcomesFromBeforeRestart(): void {
    const reports = this.context.deps.provider.outcomesRecordedBeforeRestart?.() ?? [];
    this.context.store.transaction(() => {
      for (const report of reports) if (report.run.kind === 'task') this.storeRunOutcome(report);
    });
  }

  /** Stores how a (not multi-instance) run ended; returns the retry to start, if it earned one. */
  private storeRunOutcome(report: TaskRunReport): TaskRun | undefined {
    const { store } = this.context;
    const { run, outcome } = report;
    return store.transaction((): TaskRun | undefined => {
      const record = store.tasks.get(run.account, run.jobId, run.taskId);
      if (!record || record.task.state !== 'running' || record.attempt !== run.attempt || record.task.nodeInfo?.nodeId !== run.nodeId) return undefined;
      const { now, eTag } = this.context.stamp();
      const jobRecord = store.jobs.get(run.account, run.jobId);
      if (jobRecord?.job.state === 'active' && record.task.nodeInfo && shouldRetry(record.task, outcome)) {
        // The node keeps the task's slots: the retry runs there, in the same directory.
        const retried: TaskRecord = { ...record, attempt: record.attempt + 1, task: retryTask(record.task, now, eTag) };
        store.tasks.update(retried);
        return this.runs.taskRun(retried, jobRecord.job, record.task.nodeInfo.taskRootDirectory, true);
      }
      const completed = completeTask(record, outcome, now, eTag);
      const { task } = completed;
      releaseRunSlots(store, record, task, now);
      store.tasks.update({ ...record, ...completed });
      recordTaskUsage(this.context, record.account, task);
      if (jobRecord) this.applyExitJobAction(jobRecord, task);
      if (jobRecord) this.completeJobAfterManager(jobRecord.account, jobRecord.job, task);
      completeJobIfDone(this.context, run.account, run.jobId);
      return undefined;
    });
  }

  /**
   * The server's backstop for maxWallClockTime, which the node's agent
   * enforces: a run still going `graceMs` past its deadline (counted from its
   * startTime, as Batch does) ends as its agent would have ended it, with
   * MaxWallClockTimeExpiry. Returns the runs to stop.
   */
  enforceWallClockLimits(graceMs: number): TaskRunRef[] {
    const now = this.context.now();
    const overdue = this.context.store.tasks.listAllRunning().filter((record) => {
      const limit = parseDuration(record.task.constraints.maxWallClockTime);
      const startTime = record.task.executionInfo.startTime;
      if (limit === undefined || isUnlimited(limit) || !startTime) return false;
      return Date.parse(startTime) + limit + graceMs <= now.getTime();
    });
    const outcome = { failureInfo: MAX_WALL_CLOCK_TIME_EXPIRED, endTime: formatTimestamp(now) };
    for (const record of overdue) {
      // A multi-instance task ends through its primary, as when its application command ends.
      const instance = record.internal.instances ? { id: 0, phase: 'application' as const, hostList: [], masterNode: '' } : undefined;
      this.recordRunOutcome({ run: { ...runRefOf(record), ...(instance ? { instance } : {}) }, outcome });
    }
    return overdue.flatMap(runRefsOf);
  }

  /** With onTaskFailure performexitoptionsjobaction, the task's exit options may disable or terminate its job. */
  private applyExitJobAction(jobRecord: JobRecord, task: Task): void {
    const { job } = jobRecord;
    if (job.onTaskFailure !== 'performexitoptionsjobaction' || job.state !== 'active') return;
    const action = completionJobAction(task);
    if (action === 'none') return;
    const { now, eTag } = this.context.stamp();
    const changed =
      action === 'terminate' ? { job: beginJobTermination(job, 'TaskFailed', now, eTag), internal: jobRecord.internal } : beginJobDisable(jobRecord, 'requeue', now, eTag);
    this.context.store.jobs.update({ account: jobRecord.account, ...changed });
  }

  /** A job manager task with killJobOnCompletion (the default) ends its job when it completes. */
  private completeJobAfterManager(account: string, job: Job, task: Task): void {
    const record = this.context.store.jobs.get(account, job.id);
    const current = record?.job;
    if (!record || !current || current.state !== 'active' || !isJobManager(current, task)) return;
    if (jobManagerOf(current)?.killJobOnCompletion === false) return;
    const { now, eTag } = this.context.stamp();
    this.context.store.jobs.update({ ...record, job: beginJobTermination(current, 'JMComplete', now, eTag) });
  }

  /**
   * One instance's run ended. A failed coordination command fails the task;
   * when every instance has coordinated, the primary runs the application
   * command; its end is the task's end, and the other instances stop.
   */
  private recordInstanceOutcome(report: TaskRunReport): { runs: TaskRun[]; stop: TaskRunRef[] } {
    const { store } = this.context;
    const { run, outcome } = report;
    const instance = run.instance;
    if (!instance) return { runs: [], stop: [] };
    return store.transaction(() => {
      const record = store.tasks.get(run.account, run.jobId, run.taskId);
      if (!record || record.task.state !== 'running' || record.attempt !== run.attempt || !record.internal.instances) return { runs: [], stop: [] };
      const jobRecord = store.jobs.get(run.account, run.jobId);
      const job = jobRecord?.job;
      const now = this.context.now();
      const instances = [...record.internal.instances];
      const current = instances[instance.id];
      if (!current || !jobRecord || !job) return { runs: [], stop: [] };
      const failed = outcome.failureInfo !== undefined || (outcome.exitCode ?? 0) !== 0;
      if (instance.phase === 'coordination' && !failed) {
        instances[instance.id] = { ...current, coordinated: true };
        const updated: TaskRecord = { ...record, internal: { ...record.internal, instances } };
        store.tasks.update(updated);
        const ready = instances.every((entry) => entry.coordinated);
        return { runs: ready ? [this.runs.instanceRun(updated, job, 0, 'application')] : [], stop: [] };
      }
      // The application ended, or a coordination command failed: the task ends on every node.
      const { eTag } = this.context.stamp();
      const ended = instances.map((entry) =>
        entry.state === 'completed' ? entry : completeInstance(entry, entry.id === instance.id ? outcome : { exitCode: entry.coordinated ? 0 : undefined, endTime: outcome.endTime }, now),
      );
      // Every instance is stopped, the reporting one too: daemons its coordination command left end with the task.
      const stop = runRefsOf(record);
      const completed = completeTask({ task: record.task, internal: { ...record.internal, instances: ended } }, outcome, now, eTag);
      const { task } = completed;
      releaseRunSlots(store, record, task, now);
      store.tasks.update({ ...record, ...completed });
      recordTaskUsage(this.context, record.account, task);
      this.applyExitJobAction(jobRecord, task);
      completeJobIfDone(this.context, run.account, run.jobId);
      return { runs: [], stop };
    });
  }
}
