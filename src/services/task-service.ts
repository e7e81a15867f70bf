// Task use cases: add, addCollection, get, list, delete; and the scheduler's
// side: the snapshot placement works on, committing a placement plan, and
// recording what a node reports when a run ends.

import { settingsEnvironment } from '../core/batch-environment.js';
import { checkConditions, type Conditions } from '../core/conditions.js';
import { BatchError, batchErrors, isBatchError } from '../core/errors.js';
import { assertValidId, idKey } from '../core/ids.js';
import { assertAcceptsTasks, beginJobDisable, beginJobTermination, type Job } from '../core/job.js';
import { freeSlots, isSchedulable, occupySlots } from '../core/node.js';
import type { NodeRecord, Page, PageQuery, TaskRecord, TaskRun, TaskRunRef, TaskRunReport } from '../core/ports.js';
import {
  assignToNode,
  authenticationTokenExpiry,
  completeTask,
  completionJobAction,
  markFilesCleanedUp,
  createTask,
  MAX_WALL_CLOCK_TIME_EXPIRED,
  reactivateTask,
  retryTask,
  returnFromPreparation,
  shouldRetry,
  startAfterPreparation,
  taskRootDirectory,
  terminateWaitingTask,
  updateTaskConstraints,
  type Task,
  type TaskConstraints,
  type TaskSpec,
} from '../core/task.js';
import { formatTimestamp, parseDuration, isUnlimited } from '../core/time.js';
import { isJobManager, jobManagerOf, jobManagerSlots } from '../core/job-manager.js';
import { preparationTaskOf, prepReleaseDirectory } from '../core/job-preparation.js';
import { checkRunIdentity } from '../core/admin-tasks.js';
import { runIdentity } from '../core/pool-users.js';
import { completeInstance, multiInstanceOf, startInstances, type InstanceStatus } from '../core/multi-instance.js';
import type { ComputeNode } from '../core/node.js';
import type { Pool } from '../core/pool.js';
import type { TaskNodeInfo } from '../core/task-node-info.js';
import type { Assignment } from '../core/scheduling.js';
import type { Caller, ServiceContext } from './context.js';
import type { JobPreparationService } from './job-preparation-service.js';
import type { NodeSetup } from './node-setup.js';
import { endRun, recordTaskUsage, releaseRunSlots, resolveResourceFile, runRefOf, runRefsOf, taskFilesOf, type TaskFiles } from './task-runs.js';

export type TaskAddStatus = 'success' | 'clienterror' | 'servererror';

export interface TaskAddOutcome {
  taskId: string;
  status: TaskAddStatus;
  task?: Task;
  error?: BatchError;
}

export const MAX_TASKS_PER_COLLECTION = 100;
/** Task directories removed per sweep; the next sweep follows at once when more are due. */
const RETENTION_SWEEP_SIZE = 500;

export class TaskService {
  constructor(
    private readonly context: ServiceContext,
    private readonly preparation: JobPreparationService,
    private readonly setup: NodeSetup,
  ) {}

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
          if (!store.tasks.insert({ account: caller.account, jobId: jobRecord.job.id, attempt: 0, task })) throw batchErrors.taskExists();
          return { taskId: spec.id, status: 'success', task };
        } catch (error) {
          if (!isBatchError(error)) throw error;
          return { taskId: spec.id, status: error.kind === 'internal' ? 'servererror' : 'clienterror', error };
        }
      });
    });
    if (outcomes.some((outcome) => outcome.status === 'success')) this.context.deps.signal.wake();
    return outcomes;
  }

  get(caller: Caller, jobId: string, taskId: string, conditions?: Conditions): Task {
    const record = this.findTask(caller, jobId, taskId);
    checkConditions(record.task, conditions, 'read');
    return record.task;
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
      if (record.task.state === 'running' || record.task.state === 'preparing') releaseRunSlots(store, record, 'abandoned', this.context.now());
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
        const ended = terminateWaitingTask(record.task, now, eTag);
        store.tasks.update({ ...record, task: ended });
        recordTaskUsage(this.context, record.account, ended);
      } else {
        endRun(this.context, record);
      }
      this.completeJobIfDone(caller.account, record.jobId);
      const task = store.tasks.get(caller.account, jobId, taskId)?.task ?? record.task;
      return { stopped: record.task.state === 'active' ? undefined : record, task };
    });
    if (stopped) this.context.deps.nodeWork.stopRuns(runRefsOf(stopped));
    this.context.deps.signal.wake();
    return task;
  }

  /**
   * Removes the directories of completed tasks whose retention time ran out
   * (their file APIs then answer TaskFilesCleanedup). Returns the directories
   * to remove and when the next one is due (epoch ms).
   */
  cleanExpiredTasks(): { removeFiles: TaskFiles[]; nextWake?: number } {
    const { store } = this.context;
    const removeFiles: TaskFiles[] = [];
    store.transaction(() => {
      for (const record of store.tasks.listRetentionExpired(this.context.now().getTime(), RETENTION_SWEEP_SIZE)) {
        const files = taskFilesOf(record);
        if (files) removeFiles.push(files);
        store.tasks.update({ ...record, task: markFilesCleanedUp(record.task) });
      }
    });
    return { removeFiles, nextWake: store.tasks.nextRetentionTime() };
  }

  /** Task_Reactivate: a failed task runs again, with its retry count reset. */
  reactivate(caller: Caller, jobId: string, taskId: string, conditions?: Conditions): Task {
    const { store } = this.context;
    const task = store.transaction(() => {
      const record = this.findTask(caller, jobId, taskId);
      checkConditions(record.task, conditions, 'write');
      const { now, eTag } = this.context.stamp();
      const reactivated = reactivateTask(record.task, this.findJob(caller, jobId), now, eTag);
      store.tasks.update({ ...record, task: reactivated });
      return reactivated;
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

  /**
   * Commits a placement plan in one transaction. Each assignment is checked
   * again (task still active, node still has room) since the snapshot.
   */
  commitAssignments(assignments: Assignment[]): TaskRun[] {
    const { store } = this.context;
    return store.transaction(() => {
      const runs: TaskRun[] = [];
      // A plan places many tasks of a few jobs on a few nodes of one pool: each job and pool is read once.
      const jobs = new Map<string, ReturnType<typeof store.jobs.get>>();
      const pools = new Map<string, ReturnType<typeof store.pools.get>>();
      const once = <T>(cache: Map<string, T>, key: string, read: () => T): T => {
        if (!cache.has(key)) cache.set(key, read());
        return cache.get(key) as T;
      };
      for (const assignment of assignments) {
        const taskRecord = store.tasks.get(assignment.account, assignment.jobId, assignment.taskId);
        const jobRecord = once(jobs, `${assignment.account}\n${idKey(assignment.jobId)}`, () => store.jobs.get(assignment.account, assignment.jobId));
        const poolRecord = once(pools, `${assignment.account}\n${idKey(assignment.poolId)}`, () => store.pools.get(assignment.account, assignment.poolId));
        const nodeRecord = store.nodes.get(assignment.account, assignment.poolId, assignment.nodeId);
        if (!taskRecord || !jobRecord || !poolRecord || !nodeRecord) continue;
        if (taskRecord.task.state !== 'active' || jobRecord.job.state !== 'active') continue;
        if (assignment.nodeIds) {
          runs.push(...this.commitInstances(taskRecord, jobRecord.job, poolRecord.pool, assignment.nodeIds));
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
        const task = assignToNode(taskRecord.task, this.nodeInfoOf(poolRecord.pool, nodeRecord.node, directory), now, eTag, state);
        const record: TaskRecord = { ...taskRecord, attempt: taskRecord.attempt + 1, task: { ...task, slotsHeld: slots } };
        store.tasks.update(record);
        store.nodes.update({ ...nodeRecord, node: occupySlots(nodeRecord.node, slots, now) });
        // A preparing task holds its slots and starts when its node has prepared (settlePreparingTasks).
        if (state === 'running') runs.push(this.describeRun(record, jobRecord.job, directory, false, poolRecord.pool));
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
  settlePreparingTasks(): TaskRun[] {
    const { store } = this.context;
    const runs: TaskRun[] = [];
    store.transaction(() => {
      for (const { account, pool } of store.pools.listAll()) this.settlePreparingTasksOf(account, pool.id, runs);
    });
    return runs;
  }

  private settlePreparingTasksOf(account: string, poolId: string, runs: TaskRun[]): void {
    const { store } = this.context;
    for (const { job } of store.jobs.listByPool(account, poolId, ['active', 'disabling', 'disabled', 'enabling', 'terminating'])) {
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
          runs.push(this.describeRun(started, job, nodeInfo.taskRootDirectory, false));
          continue;
        }
        releaseRunSlots(store, record, 'abandoned', now);
        store.tasks.update({ ...record, task: returnFromPreparation(record.task, now, eTag) });
      }
    }
  }

  private nodeInfoOf(pool: Pool, node: ComputeNode, directory: string): TaskNodeInfo {
    const nodeUrl = `${this.context.deps.publicUrl()}/pools/${pool.id}/nodes/${node.id}`;
    return { affinityId: node.affinityId, nodeUrl, poolId: pool.id, nodeId: node.id, taskRootDirectory: directory, taskRootDirectoryUrl: `${nodeUrl}/files/${directory}` };
  }

  /** Starts a multi-instance task on all its nodes at once: each instance runs the coordination command first. */
  private commitInstances(taskRecord: TaskRecord, job: Job, pool: Pool, nodeIds: string[]): TaskRun[] {
    const { store } = this.context;
    const nodeRecords = nodeIds.map((nodeId) => store.nodes.get(taskRecord.account, pool.id, nodeId));
    const slots = taskRecord.task.requiredSlots;
    if (nodeRecords.some((record) => !record || freeSlots(record.node, pool.taskSlotsPerNode) < slots)) return [];
    const { now, eTag } = this.context.stamp();
    const directory = taskRootDirectory(job.id, taskRecord.task.id);
    const nodeInfos = (nodeRecords as NodeRecord[]).map((record) => this.nodeInfoOf(pool, record.node, directory));
    const started = assignToNode(taskRecord.task, nodeInfos[0] as TaskNodeInfo, now, eTag);
    const record: TaskRecord = { ...taskRecord, attempt: taskRecord.attempt + 1, task: { ...started, slotsHeld: slots, instances: startInstances(nodeInfos, now) } };
    store.tasks.update(record);
    for (const nodeRecord of nodeRecords as NodeRecord[]) store.nodes.update({ ...nodeRecord, node: occupySlots(nodeRecord.node, slots, now) });
    const settings = multiInstanceOf(record.task);
    if (!settings?.coordinationCommandLine) {
      // Nothing to coordinate: the primary runs the application at once; the subtasks hold their nodes.
      for (const instance of record.task.instances ?? []) instance.coordinated = true;
      store.tasks.update(record);
      return [this.instanceRun(record, job, 0, 'application')];
    }
    return nodeInfos.map((_, id) => this.instanceRun(record, job, id, 'coordination'));
  }

  private instanceRun(record: TaskRecord, job: Job, id: number, phase: 'coordination' | 'application'): TaskRun {
    const instances = record.task.instances ?? [];
    const instance = instances[id] as InstanceStatus;
    const settings = multiInstanceOf(record.task);
    const base = this.describeRun(record, job, instance.nodeInfo.taskRootDirectory, phase === 'application');
    const common = (settings?.commonResourceFiles ?? []).map((file) => resolveResourceFile(this.context, record.account, file));
    const primary = instances[0] as InstanceStatus;
    return {
      ...base,
      poolId: instance.nodeInfo.poolId,
      nodeId: instance.nodeInfo.nodeId,
      commandLine: phase === 'coordination' ? (settings?.coordinationCommandLine ?? '') : record.task.commandLine,
      resourceFiles: phase === 'coordination' ? [...common, ...(id === 0 ? base.resourceFiles : [])] : [],
      isRetry: phase === 'application',
      outputFiles: phase === 'application' ? base.outputFiles : [],
      instance: { id, phase, hostList: instances.map(() => '127.0.0.1'), masterNode: `127.0.0.1:${6000 + (primary.id ?? 0)}` },
      ...(phase === 'coordination' ? { outputNames: { stdout: 'coordination-stdout.txt', stderr: 'coordination-stderr.txt' } } : {}),
    };
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
      if (!record || record.task.state !== 'running' || record.attempt !== run.attempt || !record.task.instances) return { runs: [], stop: [] };
      const job = store.jobs.get(run.account, run.jobId)?.job;
      const now = this.context.now();
      const instances = [...record.task.instances];
      const current = instances[instance.id];
      if (!current || !job) return { runs: [], stop: [] };
      const failed = outcome.failureInfo !== undefined || (outcome.exitCode ?? 0) !== 0;
      if (instance.phase === 'coordination' && !failed) {
        instances[instance.id] = { ...current, coordinated: true };
        const updated: TaskRecord = { ...record, task: { ...record.task, instances } };
        store.tasks.update(updated);
        const ready = instances.every((entry) => entry.coordinated);
        return { runs: ready ? [this.instanceRun(updated, job, 0, 'application')] : [], stop: [] };
      }
      // The application ended, or a coordination command failed: the task ends on every node.
      const { eTag } = this.context.stamp();
      const ended = instances.map((entry) =>
        entry.state === 'completed' ? entry : completeInstance(entry, entry.id === instance.id ? outcome : { exitCode: entry.coordinated ? 0 : undefined, endTime: outcome.endTime }, now),
      );
      // Every instance is stopped, the reporting one too: daemons its coordination command left end with the task.
      const stop = runRefsOf(record);
      const task = completeTask({ ...record.task, instances: ended }, outcome, now, eTag);
      releaseRunSlots(store, record, task.executionInfo.result === 'success' ? 'succeeded' : 'failed', now);
      store.tasks.update({ ...record, task });
      recordTaskUsage(this.context, record.account, task);
      this.applyExitJobAction(run.account, job, task);
      this.completeJobIfDone(run.account, run.jobId);
      return { runs: [], stop };
    });
  }

  /** `pool` saves a read when the caller has the task's pool at hand. */
  private describeRun(record: TaskRecord, job: Job, taskDirectory: string, isRetry: boolean, pool?: Pool): TaskRun {
    const { task } = record;
    const tokenExpiry = authenticationTokenExpiry(task, this.context.now());
    const wallClock = parseDuration(task.constraints.maxWallClockTime);
    const taskPool = pool ?? (task.nodeInfo ? this.context.store.pools.get(record.account, task.nodeInfo.poolId)?.pool : undefined);
    const setup = this.setup.forRun(record.account, taskPool, task.applicationPackageReferences, 'task');
    const identity = runIdentity(task.userIdentity, taskPool);
    if (identity.failure && !setup.failure) setup.failure = identity.failure;
    return {
      ...runRefOf(record),
      applicationPackages: setup.applicationPackages,
      certificates: setup.certificates,
      preProcessingFailure: setup.failure,
      commandLine: task.commandLine,
      taskDirectory,
      resourceFiles: (task.resourceFiles ?? []).map((file) => resolveResourceFile(this.context, record.account, file)),
      environment: settingsEnvironment(job.commonEnvironmentSettings, task.environmentSettings),
      accountUrl: this.context.deps.publicUrl(),
      ...(tokenExpiry
        ? { authenticationToken: this.context.deps.taskTokens.issue({ account: record.account, jobId: job.id, jobCreationTime: job.creationTime }, tokenExpiry) }
        : {}),
      elevationLevel: identity.elevationLevel,
      autoUserScope: identity.autoUserScope,
      user: identity.user,
      maxWallClockTimeMs: wallClock === undefined || isUnlimited(wallClock) ? undefined : wallClock,
      isRetry,
      outputFiles: task.outputFiles ?? [],
      jobPreparationDirectory: preparationTaskOf(job) ? prepReleaseDirectory(job.id, 'jobPreparation') : undefined,
    };
  }

  /**
   * Records the end of a run. Reports for a run the server no longer expects
   * (the task was requeued, ended or deleted meanwhile) are ignored.
   */
  recordRunOutcome(report: TaskRunReport): void {
    if (report.run.instance) {
      const { runs, stop } = this.recordInstanceOutcome(report);
      this.context.deps.nodeWork.startRuns(runs);
      this.context.deps.nodeWork.stopRuns(stop);
      this.context.deps.signal.wake();
      return;
    }
    const retry = this.storeRunOutcome(report);
    if (retry) this.context.deps.nodeWork.startRuns([retry]);
    else this.context.deps.signal.slotsFreed();
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
        return this.describeRun(retried, jobRecord.job, record.task.nodeInfo.taskRootDirectory, true);
      }
      const task = completeTask(record.task, outcome, now, eTag);
      releaseRunSlots(store, record, task.executionInfo.result === 'success' ? 'succeeded' : 'failed', now);
      store.tasks.update({ ...record, task });
      recordTaskUsage(this.context, record.account, task);
      if (jobRecord) this.applyExitJobAction(jobRecord.account, jobRecord.job, task);
      if (jobRecord) this.completeJobAfterManager(jobRecord.account, jobRecord.job, task);
      this.completeJobIfDone(run.account, run.jobId);
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
      const instance = record.task.instances ? { id: 0, phase: 'application' as const, hostList: [], masterNode: '' } : undefined;
      this.recordRunOutcome({ run: { ...runRefOf(record), ...(instance ? { instance } : {}) }, outcome });
    }
    return overdue.flatMap(runRefsOf);
  }

  /** With onTaskFailure performexitoptionsjobaction, the task's exit options may disable or terminate its job. */
  private applyExitJobAction(account: string, job: Job, task: Task): void {
    if (job.onTaskFailure !== 'performexitoptionsjobaction' || job.state !== 'active') return;
    const action = completionJobAction(task);
    if (action === 'none') return;
    const { now, eTag } = this.context.stamp();
    const changed = action === 'terminate' ? beginJobTermination(job, 'TaskFailed', now, eTag) : beginJobDisable(job, 'requeue', now, eTag);
    this.context.store.jobs.update({ account, job: changed });
  }

  /** A job manager task with killJobOnCompletion (the default) ends its job when it completes. */
  private completeJobAfterManager(account: string, job: Job, task: Task): void {
    const current = this.context.store.jobs.get(account, job.id)?.job;
    if (!current || current.state !== 'active' || !isJobManager(current, task)) return;
    if (jobManagerOf(current)?.killJobOnCompletion === false) return;
    const { now, eTag } = this.context.stamp();
    this.context.store.jobs.update({ account, job: beginJobTermination(current, 'JMComplete', now, eTag) });
  }

  private completeJobIfDone(account: string, jobId: string): void {
    const { store } = this.context;
    const jobRecord = store.jobs.get(account, jobId);
    if (!jobRecord || jobRecord.job.state !== 'active' || jobRecord.job.onAllTasksComplete !== 'terminatejob') return;
    const counts = store.tasks.counts(account, jobId).tasks;
    if (counts.active > 0 || counts.running > 0) return;
    const { now, eTag } = this.context.stamp();
    store.jobs.update({ account, job: beginJobTermination(jobRecord.job, 'AllTasksComplete', now, eTag) });
  }
}


