// Job preparation and release tasks on nodes: starting the preparation task
// on the nodes a job's tasks may go to, gating the tasks on its success,
// retrying it, running the release task on every prepared node when the job
// ends, and listing each node's progress.

import { batchErrors } from '../core/errors.js';
import { isSchedulable } from '../core/node.js';
import { earnsRetry } from '../core/run-outcome.js';
import type { Job } from '../core/job.js';
import {
  attemptOf,
  beginRun,
  completeRun,
  isRunning,
  nodePreparation,
  preparationGatesTasks,
  preparationTaskOf,
  prepReleaseDirectory,
  releaseTaskOf,
  retryRun,
  type JobNodeStatus,
  type NodePreparation,
  type PrepReleaseKind,
} from '../core/job-preparation.js';
import type { JobNodeStatusRecord, NodeRecord, Page, PageQuery, TaskRun, TaskRunReport } from '../core/ports.js';
import type { Caller, ServiceContext } from './context.js';
import type { RunBuilder } from './run-builder.js';

export class JobPreparationService {
  constructor(
    private readonly context: ServiceContext,
    private readonly runs: RunBuilder,
  ) {}

  /**
   * Starts the job's preparation task on a node where it has not run yet
   * (a plan's step, inside the applier's transaction). Nothing when the job
   * no longer wants it there or it began meanwhile.
   */
  startPreparation(account: string, poolId: string, jobId: string, nodeId: string): TaskRun | undefined {
    const { store } = this.context;
    const job = store.jobs.get(account, jobId)?.job;
    const record = store.nodes.get(account, poolId, nodeId);
    if (!job || job.state !== 'active' || !preparationTaskOf(job) || !record || !isSchedulable(record.node)) return undefined;
    if (store.jobNodeStatus.get(account, job.id, nodeId)) return undefined;
    const started = this.begin(this.newStatus(record), job, 'jobPreparation');
    store.jobNodeStatus.put(account, job.id, started);
    return this.runs.preparationRun(account, job, started, 'jobPreparation', false);
  }

  /** Where the job's tasks stand on the node (see nodePreparation). */
  preparationOn(account: string, job: Job, nodeId: string): NodePreparation {
    // Most jobs have no preparation task to wait for: no node status to read for each task placed.
    if (!preparationTaskOf(job) || !preparationGatesTasks(job)) return 'ready';
    return nodePreparation(job, this.context.store.jobNodeStatus.get(account, job.id, nodeId)?.status);
  }

  /**
   * For a job that is ending, inside the caller's transaction: starts the
   * release task on every node that ran the preparation task. Returns the runs
   * to start, and whether releases are still running (the job must wait).
   */
  releaseNodes(account: string, job: Job, runs: TaskRun[]): boolean {
    const { jobNodeStatus } = this.context.store;
    const statuses = jobNodeStatus.listByJob(account, job.id);
    if (!releaseTaskOf(job)) return false;
    let waiting = false;
    for (let record of statuses) {
      if (!record.status.jobPreparationTaskExecutionInfo) continue;
      if (!record.status.jobReleaseTaskExecutionInfo) {
        record = this.begin(record, job, 'jobRelease');
        jobNodeStatus.put(account, job.id, record);
        const run = this.runs.preparationRun(account, job, record, 'jobRelease', false);
        if (run) runs.push(run);
      }
      if (isRunning(record.status, 'jobRelease')) waiting = true;
    }
    return waiting;
  }

  /** Records how a preparation or release run ended; a failed preparation is retried as its constraints allow. */
  recordOutcome(report: TaskRunReport): void {
    const { store } = this.context;
    const { run, outcome } = report;
    const kind = run.kind as PrepReleaseKind;
    const retry = store.transaction((): TaskRun | undefined => {
      const job = store.jobs.get(run.account, run.jobId)?.job;
      const record = store.jobNodeStatus.get(run.account, run.jobId, run.nodeId);
      if (!job || !record || attemptOf(record.internal, kind) !== run.attempt || !isRunning(record.status, kind)) return undefined;
      const { status } = record;
      const info = kind === 'jobPreparation' ? status.jobPreparationTaskExecutionInfo : status.jobReleaseTaskExecutionInfo;
      const maxRetries = kind === 'jobPreparation' ? (preparationTaskOf(job)?.constraints?.maxTaskRetryCount ?? job.constraints.maxTaskRetryCount) : 0;
      if (earnsRetry(outcome, info?.retryCount ?? 0, maxRetries)) {
        const retried = retryRun(record, kind, this.context.now());
        store.jobNodeStatus.put(run.account, run.jobId, retried);
        return this.runs.preparationRun(run.account, job, retried, kind, true);
      }
      store.jobNodeStatus.put(run.account, run.jobId, { ...record, status: completeRun(status, kind, outcome) });
      return undefined;
    });
    if (retry) this.context.deps.nodeWork.startRuns([retry]);
    this.context.deps.signal.wake();
  }

  /**
   * A rebooted or reimaged node prepares again for jobs that ask for it (all
   * of them after a reimage), and for those whose preparation task the
   * restart cut short.
   */
  forgetNode(account: string, nodeId: string, wiped: boolean): void {
    const { store } = this.context;
    for (const { jobKey, status } of store.jobNodeStatus.listByNode(account, nodeId)) {
      const job = store.jobs.get(account, jobKey)?.job;
      const rerun = wiped || isRunning(status, 'jobPreparation') || (job ? (preparationTaskOf(job)?.rerunOnNodeRebootAfterSuccess ?? true) : true);
      if (rerun && !status.jobReleaseTaskExecutionInfo) store.jobNodeStatus.delete(account, jobKey, nodeId);
    }
  }

  /** Job_ListPreparationAndReleaseTaskStatus; 409 for a job that has neither task. */
  list(caller: Caller, jobId: string, page: PageQuery): Page<JobNodeStatus> {
    const job = this.context.store.jobs.get(caller.account, jobId)?.job;
    if (!job) throw batchErrors.jobNotFound();
    if (!preparationTaskOf(job) && !releaseTaskOf(job)) throw batchErrors.jobPreparationTaskOrReleaseTaskNotSpecified();
    return this.context.store.jobNodeStatus.page(caller.account, jobId, page);
  }

  private newStatus(record: NodeRecord): JobNodeStatusRecord {
    return {
      status: { poolId: record.poolId, nodeId: record.node.id, nodeUrl: `${this.context.deps.publicUrl(record.account)}/pools/${record.poolId}/nodes/${record.node.id}` },
      internal: { preparationAttempt: 0, releaseAttempt: 0 },
    };
  }

  private begin(record: JobNodeStatusRecord, job: Job, kind: PrepReleaseKind): JobNodeStatusRecord {
    const directoryUrl = `${record.status.nodeUrl}/files/${prepReleaseDirectory(job.id, kind)}`;
    return beginRun(record, kind, directoryUrl, job.id, this.context.now());
  }

}
