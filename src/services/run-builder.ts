// The one place that describes a task's run for its node: a task's attempt
// (or retry, in the same directory) and each instance of a multi-instance
// task (its coordination command on every node, then its application
// command on the primary). Start tasks, and preparation and release tasks,
// are described by NodeService and JobPreparationService; every kind's
// AZ_BATCH_* variables come from core/batch-environment.ts.

import { settingsEnvironment } from '../core/batch-environment.js';
import type { Job } from '../core/job.js';
import { preparationTaskOf, prepReleaseDirectory } from '../core/job-preparation.js';
import { multiInstanceOf, type InstanceStatus } from '../core/multi-instance.js';
import type { ComputeNode } from '../core/node.js';
import type { Pool } from '../core/pool.js';
import { runIdentity } from '../core/pool-users.js';
import type { TaskRecord, TaskRun } from '../core/ports.js';
import type { TaskNodeInfo } from '../core/task-node-info.js';
import { authenticationTokenExpiry } from '../core/task.js';
import { isUnlimited, parseDuration } from '../core/time.js';
import type { ServiceContext } from './context.js';
import type { NodeSetup } from './node-setup.js';
import { resolveResourceFile, runRefOf } from './task-runs.js';

export class RunBuilder {
  constructor(
    private readonly context: ServiceContext,
    private readonly setup: NodeSetup,
  ) {}

  /** Where a task runs on a node, as Batch reports it (nodeInfo). */
  nodeInfoOf(pool: Pool, node: ComputeNode, directory: string): TaskNodeInfo {
    const nodeUrl = `${this.context.deps.publicUrl()}/pools/${pool.id}/nodes/${node.id}`;
    return { affinityId: node.affinityId, nodeUrl, poolId: pool.id, nodeId: node.id, taskRootDirectory: directory, taskRootDirectoryUrl: `${nodeUrl}/files/${directory}` };
  }

  /** A task's attempt on its node (a retry reuses its directory); `pool` saves a read when the caller has the task's pool at hand. */
  taskRun(record: TaskRecord, job: Job, taskDirectory: string, isRetry: boolean, pool?: Pool): TaskRun {
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

  /** One instance of a multi-instance task: its coordination command, or (on the primary) its application command. */
  instanceRun(record: TaskRecord, job: Job, id: number, phase: 'coordination' | 'application'): TaskRun {
    const instances = record.task.instances ?? [];
    const instance = instances[id] as InstanceStatus;
    const settings = multiInstanceOf(record.task);
    const base = this.taskRun(record, job, instance.nodeInfo.taskRootDirectory, phase === 'application');
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
}
