// Job use cases: add, get, list, delete, terminate; and the second half of
// terminate and delete, which the scheduler drives: end the running tasks,
// remove their files, then complete or remove the job.

import { checkConditions, type Conditions } from '../core/conditions.js';
import { batchErrors } from '../core/errors.js';
import { assertValidId } from '../core/ids.js';
import { beginJobTermination, completeJob, createJob, markJobDeleting, type Job, type JobSpec } from '../core/job.js';
import type { Page, PageQuery, TaskRunRef } from '../core/ports.js';
import { completeTask, TASK_ENDED } from '../core/task.js';
import { formatTimestamp } from '../core/time.js';
import type { Caller, ServiceContext } from './context.js';
import { releaseRunSlots, runRefOf, taskFilesOf, type TaskFiles } from './task-runs.js';

export class JobService {
  constructor(private readonly context: ServiceContext) {}

  add(caller: Caller, spec: JobSpec): Job {
    assertValidId(spec.id);
    const { now, eTag } = this.context.stamp();
    const job = createJob(spec, now, eTag);
    this.context.store.transaction(() => {
      if (!this.context.store.jobs.insert({ account: caller.account, job })) throw batchErrors.jobExists();
    });
    this.context.deps.signal.wake();
    return job;
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

  delete(caller: Caller, jobId: string, conditions?: Conditions): void {
    this.mutate(caller, jobId, conditions, (job, now, eTag) => markJobDeleting(job, now, eTag));
  }

  private mutate(caller: Caller, jobId: string, conditions: Conditions | undefined, change: (job: Job, now: Date, eTag: string) => Job): Job {
    const updated = this.context.store.transaction(() => {
      const record = this.context.store.jobs.get(caller.account, jobId);
      if (!record) throw batchErrors.jobNotFound();
      checkConditions(record.job, conditions, 'write');
      const { now, eTag } = this.context.stamp();
      const job = change(record.job, now, eTag);
      this.context.store.jobs.update({ account: caller.account, job });
      return job;
    });
    this.context.deps.signal.wake();
    return updated;
  }

  /**
   * Finishes terminations and deletions: running tasks are ended (and
   * completed with TaskEnded for a termination), then the job completes or
   * disappears. Returns the runs to stop and the task directories to remove.
   */
  settleEndingJobs(): { stop: TaskRunRef[]; removeFiles: TaskFiles[] } {
    const stop: TaskRunRef[] = [];
    const removeFiles: TaskFiles[] = [];
    const { store } = this.context;
    store.transaction(() => {
      for (const { account, job } of store.jobs.listByState(['terminating', 'deleting'])) {
        for (const record of store.tasks.listByState(account, job.id, 'running')) {
          stop.push(runRefOf(record));
          const { now, eTag } = this.context.stamp();
          releaseRunSlots(store, record, 'failed', now);
          const task = completeTask(record.task, { failureInfo: TASK_ENDED, endTime: formatTimestamp(now) }, now, eTag);
          store.tasks.update({ ...record, task });
        }
        if (job.state === 'terminating') {
          const { now, eTag } = this.context.stamp();
          store.jobs.update({ account, job: completeJob(job, now, eTag) });
          continue;
        }
        for (const state of ['completed', 'active'] as const) {
          for (const record of store.tasks.listByState(account, job.id, state)) {
            const files = taskFilesOf(record);
            if (files) removeFiles.push(files);
          }
        }
        store.tasks.deleteByJob(account, job.id);
        store.jobs.delete(account, job.id);
      }
    });
    return { stop, removeFiles };
  }
}
