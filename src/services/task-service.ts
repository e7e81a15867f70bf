// Task use cases: Task_Add, Task_AddCollection, Task_Get, Task_List,
// Task_Delete, Task_Update, Task_Terminate, Task_Reactivate. Placing tasks is
// the scheduler's (SchedulingService), describing their runs RunBuilder's,
// and recording how runs end RunOutcomeService's.

import { checkRunIdentity } from '../core/admin-tasks.js';
import { checkConditions, type Conditions } from '../core/conditions.js';
import { BatchError, batchErrors, isBatchError } from '../core/errors.js';
import { assertValidId, idKey } from '../core/ids.js';
import { assertAcceptsTasks, type Job } from '../core/job.js';
import { subtaskOf, type Subtask } from '../core/multi-instance.js';
import type { Page, PageQuery, TaskRecord } from '../core/ports.js';
import { createTask, reactivateTask, terminateWaitingTask, updateTaskConstraints, type Task, type TaskConstraints, type TaskSpec } from '../core/task.js';
import type { Caller, ServiceContext } from './context.js';
import { completeJobIfDone, endRun, recordTaskUsage, releaseRunSlots, runRefsOf, taskFilesOf } from './task-runs.js';

export type TaskAddStatus = 'success' | 'clienterror' | 'servererror';

export interface TaskAddOutcome {
  taskId: string;
  status: TaskAddStatus;
  task?: Task;
  error?: BatchError;
}

export const MAX_TASKS_PER_COLLECTION = 100;

export class TaskService {
  constructor(private readonly context: ServiceContext) {}

  add(caller: Caller, jobId: string, spec: TaskSpec): Task {
    const [outcome] = this.addCollection(caller, jobId, [spec]);
    if (!outcome?.task) throw outcome?.error ?? batchErrors.internal();
    return outcome.task;
  }

  /**
   * Adds up to 100 tasks in one transaction. A task that breaks a rule gets
   * its own error in the result; the others are stored. Job-level errors
   * (no such job, job completed) fail the whole request.
   */
  addCollection(caller: Caller, jobId: string, specs: TaskSpec[]): TaskAddOutcome[] {
    const { store } = this.context;
    const outcomes = store.transaction(() => {
      const jobRecord = store.jobs.get(caller.account, jobId);
      if (!jobRecord) throw batchErrors.jobNotFound();
      assertAcceptsTasks(jobRecord.job);
      const policy = this.context.deps.adminTasks;
      const poolId = jobRecord.job.executionInfo.poolId ?? jobRecord.job.poolInfo.poolId;
      const pool = policy === 'refuse' && poolId ? store.pools.get(caller.account, poolId)?.pool : undefined;
      const seen = new Set<string>();
      return specs.map((spec): TaskAddOutcome => {
        try {
          assertValidId(spec.id);
          if (seen.has(idKey(spec.id))) throw batchErrors.taskExists();
          seen.add(idKey(spec.id));
          checkRunIdentity(policy, spec.userIdentity, '', pool);
          const { now, eTag } = this.context.stamp();
          const task = createTask(spec, jobRecord.job, now, eTag);
          if (!store.tasks.insert({ account: caller.account, jobId: jobRecord.job.id, attempt: 0, task, internal: {} })) throw batchErrors.taskExists();
          return { taskId: spec.id, status: 'success', task };
        } catch (error) {
          if (!isBatchError(error)) throw error;
          return { taskId: spec.id, status: error.kind === 'internal' ? 'servererror' : 'clienterror', error };
        }
      });
    });
    if (outcomes.some((outcome) => outcome.status === 'success')) this.context.deps.signal.tasksAdded();
    return outcomes;
  }

  get(caller: Caller, jobId: string, taskId: string, conditions?: Conditions): Task {
    const record = this.findTask(caller, jobId, taskId);
    checkConditions(record.task, conditions, 'read');
    return record.task;
  }

  /** Task_ListSubtasks: the instances of a multi-instance task other than the primary. */
  subtasks(caller: Caller, jobId: string, taskId: string): Subtask[] {
    return (this.findTask(caller, jobId, taskId).internal.instances ?? []).slice(1).map(subtaskOf);
  }

  list(caller: Caller, jobId: string, page: PageQuery): Page<Task> {
    if (!this.context.store.jobs.get(caller.account, jobId)) throw batchErrors.jobNotFound();
    const result = this.context.store.tasks.list(caller.account, jobId, page);
    return { items: result.items.map((record) => record.task), continuation: result.continuation };
  }

  /** Task_List without $select: each task as its stored JSON text, for the API to pass on. */
  listJson(caller: Caller, jobId: string, page: PageQuery): Page<string> {
    if (!this.context.store.jobs.get(caller.account, jobId)) throw batchErrors.jobNotFound();
    return this.context.store.tasks.listJson(caller.account, jobId, page);
  }

  /** Deletes a task; a running one is ended first, and its files are removed from the node. */
  delete(caller: Caller, jobId: string, taskId: string, conditions?: Conditions): void {
    const { store } = this.context;
    const removed = store.transaction(() => {
      const record = this.findTask(caller, jobId, taskId);
      checkConditions(record.task, conditions, 'write');
      if (record.task.state === 'running' || record.task.state === 'preparing') releaseRunSlots(store, record, undefined, this.context.now());
      store.tasks.delete(caller.account, jobId, taskId);
      return record;
    });
    const files = taskFilesOf(removed);
    // Per node in this order: the process ends before its directory goes.
    if (removed.task.state === 'running') this.context.deps.nodeWork.stopRuns(runRefsOf(removed));
    if (files) this.context.deps.nodeWork.removeFiles(files.placement, files.path);
    this.context.deps.signal.wake();
  }

  /** Task_Update: replaces the task's constraints. */
  update(caller: Caller, jobId: string, taskId: string, constraints: Partial<TaskConstraints> | undefined, conditions?: Conditions): Task {
    const { store } = this.context;
    return store.transaction(() => {
      const record = this.findTask(caller, jobId, taskId);
      checkConditions(record.task, conditions, 'write');
      const job = this.findJob(caller, jobId);
      const { now, eTag } = this.context.stamp();
      const task = updateTaskConstraints(record.task, job, constraints, now, eTag);
      store.tasks.update({ ...record, task });
      return task;
    });
  }

  /** Task_Terminate: a waiting task completes at once; a running one is ended on its node. */
  terminate(caller: Caller, jobId: string, taskId: string, conditions?: Conditions): Task {
    const { store } = this.context;
    const { stopped, task } = store.transaction(() => {
      const record = this.findTask(caller, jobId, taskId);
      checkConditions(record.task, conditions, 'write');
      if (record.task.state === 'completed') throw batchErrors.taskCompleted();
      if (record.task.state === 'active') {
        const { now, eTag } = this.context.stamp();
        const ended = terminateWaitingTask(record, now, eTag);
        store.tasks.update({ ...record, ...ended });
        recordTaskUsage(this.context, record.account, ended.task);
      } else {
        endRun(this.context, record);
      }
      completeJobIfDone(this.context, caller.account, record.jobId);
      const task = store.tasks.get(caller.account, jobId, taskId)?.task ?? record.task;
      return { stopped: record.task.state === 'active' ? undefined : record, task };
    });
    if (stopped) this.context.deps.nodeWork.stopRuns(runRefsOf(stopped));
    this.context.deps.signal.wake();
    return task;
  }

  /** Task_Reactivate: a failed task runs again, with its retry count reset. */
  reactivate(caller: Caller, jobId: string, taskId: string, conditions?: Conditions): Task {
    const { store } = this.context;
    const task = store.transaction(() => {
      const record = this.findTask(caller, jobId, taskId);
      checkConditions(record.task, conditions, 'write');
      const { now, eTag } = this.context.stamp();
      const reactivated = reactivateTask(record, this.findJob(caller, jobId), now, eTag);
      store.tasks.update({ ...record, ...reactivated });
      return reactivated.task;
    });
    this.context.deps.signal.wake();
    return task;
  }

  private findJob(caller: Caller, jobId: string): Job {
    const record = this.context.store.jobs.get(caller.account, jobId);
    if (!record) throw batchErrors.jobNotFound();
    return record.job;
  }

  findTask(caller: Caller, jobId: string, taskId: string): TaskRecord {
    const { store } = this.context;
    const record = store.tasks.get(caller.account, jobId, taskId);
    if (!record) {
      if (!store.jobs.get(caller.account, jobId)) throw batchErrors.jobNotFound();
      throw batchErrors.taskNotFound();
    }
    return record;
  }
}

