// The one place that describes a run for its node, for every kind of run.
// What differs by kind is in this table; everything else (the pool's
// packages and certificates, whom the run runs as, its resource files and
// settings, the endpoint it sees) is built once, in `describe`. Every
// AZ_BATCH_* variable then comes from core/batch-environment.ts.
//
//   kind              settings             directory             id seen      attempt             maxWallClockTime        output files  token
//   task              job common + task's  workitems/<job>/…     task id      the task record's   constraints             outputFiles   authenticationTokenSettings
//   instance          as task              the task's, per node  task id      as task             as task                 on the primary's application command
//   startTask         the start task's     startup               (none)       node's              none                    none          none
//   jobPreparation    job common + its     …/jobpreparation      its id, else jobpreparation  node status's  constraints         none          none
//   jobRelease        job common + its     …/jobrelease          its id, else jobrelease      node status's  maxWallClockTime (PT15M)  none  none
//
// A task's own application packages that do not exist fail it before it
// starts; so does a named user the pool does not define (preProcessingFailure).

import { settingsEnvironment } from '../core/batch-environment.js';
import { containerRunOf, type TaskContainerSettings } from '../core/container-settings.js';
import type { EnvironmentSetting, ResourceFile, UserIdentity } from '../core/common.js';
import type { Job } from '../core/job.js';
import { attemptOf, DEFAULT_RELEASE_WALL_CLOCK, preparationTaskOf, prepReleaseDirectory, releaseTaskOf, type PrepReleaseKind } from '../core/job-preparation.js';
import { multiInstanceOf, type InstanceStatus } from '../core/multi-instance.js';
import type { ComputeNode } from '../core/node.js';
import type { Pool, StartTask } from '../core/pool.js';
import { runIdentity } from '../core/pool-users.js';
import type { JobNodeStatusRecord, NodeRecord, TaskRecord, TaskRun, TaskRunRef } from '../core/ports.js';
import type { TaskNodeInfo } from '../core/task-node-info.js';
import { authenticationTokenExpiry } from '../core/task.js';
import { isUnlimited, parseDuration } from '../core/time.js';
import type { ServiceContext } from './context.js';
import type { NodeSetup } from './node-setup.js';
import { resolveResourceFile, runRefOf } from './task-runs.js';

/** What one kind of run contributes; `describe` builds the rest the same way for all. */
interface RunParts {
  ref: TaskRunRef;
  pool: Pool | undefined;
  commandLine: string;
  taskDirectory: string;
  settings: (EnvironmentSetting[] | undefined)[];
  resourceFiles: ResourceFile[] | undefined;
  userIdentity: UserIdentity | undefined;
  packages: { references?: Parameters<NodeSetup['forRun']>[2]; audience: 'task' | 'starttask' };
  maxWallClockTime?: string;
  isRetry: boolean;
  containerSettings: TaskContainerSettings | undefined;
  extra?: Partial<TaskRun>;
}

export class RunBuilder {
  constructor(
    private readonly context: ServiceContext,
    private readonly setup: NodeSetup,
  ) {}

  /** Where a task runs on a node, as Batch reports it (nodeInfo). */
  nodeInfoOf(account: string, pool: Pool, node: ComputeNode, directory: string): TaskNodeInfo {
    const nodeUrl = `${this.context.deps.publicUrl(account)}/pools/${pool.id}/nodes/${node.id}`;
    return { affinityId: node.affinityId, nodeUrl, poolId: pool.id, nodeId: node.id, taskRootDirectory: directory, taskRootDirectoryUrl: `${nodeUrl}/files/${directory}` };
  }

  /** A task's attempt on its node (a retry reuses its directory); `pool` saves a read when the caller has the task's pool at hand. */
  taskRun(record: TaskRecord, job: Job, taskDirectory: string, isRetry: boolean, pool?: Pool): TaskRun {
    const { task } = record;
    const tokenExpiry = authenticationTokenExpiry(task, this.context.now());
    return this.describe({
      ref: runRefOf(record),
      pool: pool ?? (task.nodeInfo ? this.context.store.pools.get(record.account, task.nodeInfo.poolId)?.pool : undefined),
      commandLine: task.commandLine,
      taskDirectory,
      settings: [job.commonEnvironmentSettings, task.environmentSettings],
      resourceFiles: task.resourceFiles,
      userIdentity: task.userIdentity,
      packages: { references: task.applicationPackageReferences, audience: 'task' },
      maxWallClockTime: task.constraints.maxWallClockTime,
      isRetry,
      containerSettings: task.containerSettings as TaskContainerSettings | undefined,
      extra: {
        outputFiles: (task.outputFiles ?? []).map((file) => ({
          ...file,
          destination: { container: { ...file.destination.container, containerUrl: this.context.nodeBlobUrl(file.destination.container.containerUrl) } },
        })),
        jobPreparationDirectory: preparationTaskOf(job) ? prepReleaseDirectory(job.id, 'jobPreparation') : undefined,
        ...(tokenExpiry
          ? { authenticationToken: this.context.deps.taskTokens.issue({ account: record.account, jobId: job.id, jobCreationTime: job.creationTime }, tokenExpiry) }
          : {}),
      },
    });
  }

  /** The pool's start task on a node: in startup/, as the node's attempt. */
  startTaskRun({ account, poolId, node, internal }: NodeRecord, startTask: StartTask, isRetry: boolean): TaskRun {
    return this.describe({
      ref: { kind: 'startTask', account, poolId, nodeId: node.id, jobId: '', taskId: 'starttask', attempt: internal.startTaskAttempt ?? 1 },
      pool: this.context.store.pools.get(account, poolId)?.pool,
      commandLine: startTask.commandLine,
      taskDirectory: 'startup',
      settings: [startTask.environmentSettings],
      resourceFiles: startTask.resourceFiles,
      userIdentity: startTask.userIdentity,
      packages: { audience: 'starttask' },
      isRetry,
      containerSettings: startTask.containerSettings,
    });
  }

  /** A job's preparation or release task on a node, as the node's status counts its attempts. */
  preparationRun(account: string, job: Job, { status, internal }: JobNodeStatusRecord, kind: PrepReleaseKind, isRetry: boolean): TaskRun | undefined {
    const preparation = preparationTaskOf(job);
    const release = releaseTaskOf(job);
    const spec = kind === 'jobPreparation' ? preparation : release;
    if (!spec) return undefined;
    return this.describe({
      ref: { kind, account, poolId: status.poolId, nodeId: status.nodeId, jobId: job.id, taskId: kind, attempt: attemptOf(internal, kind) },
      pool: this.context.store.pools.get(account, status.poolId)?.pool,
      commandLine: spec.commandLine,
      taskDirectory: prepReleaseDirectory(job.id, kind),
      settings: [job.commonEnvironmentSettings, spec.environmentSettings],
      resourceFiles: spec.resourceFiles,
      userIdentity: spec.userIdentity,
      packages: { audience: 'task' },
      maxWallClockTime: kind === 'jobPreparation' ? preparation?.constraints?.maxWallClockTime : (release?.maxWallClockTime ?? DEFAULT_RELEASE_WALL_CLOCK),
      isRetry,
      containerSettings: spec.containerSettings,
      extra: {
        visibleTaskId: spec.id ?? (kind === 'jobPreparation' ? 'jobpreparation' : 'jobrelease'),
        jobPreparationDirectory: preparation ? prepReleaseDirectory(job.id, 'jobPreparation') : undefined,
      },
    });
  }

  private describe(parts: RunParts): TaskRun {
    const { account } = parts.ref;
    const setup = this.setup.forRun(account, parts.pool, parts.packages.references, parts.packages.audience);
    const identity = runIdentity(parts.userIdentity, parts.pool);
    const wallClock = parts.maxWallClockTime ? parseDuration(parts.maxWallClockTime) : undefined;
    const containers = containerRunOf(parts.ref.kind, parts.containerSettings, parts.pool?.virtualMachineConfiguration?.containerConfiguration);
    return {
      ...parts.ref,
      applicationPackages: setup.applicationPackages,
      certificates: setup.certificates,
      preProcessingFailure: setup.failure ?? identity.failure ?? containers.failure,
      ...(containers.container ? { container: containers.container } : {}),
      commandLine: parts.commandLine,
      taskDirectory: parts.taskDirectory,
      resourceFiles: (parts.resourceFiles ?? []).map((file) => resolveResourceFile(this.context, account, file)),
      environment: settingsEnvironment(...parts.settings),
      accountUrl: this.context.deps.publicUrl(account),
      elevationLevel: identity.elevationLevel,
      autoUserScope: identity.autoUserScope,
      user: identity.user,
      maxWallClockTimeMs: wallClock === undefined || isUnlimited(wallClock) ? undefined : wallClock,
      isRetry: parts.isRetry,
      outputFiles: [],
      ...parts.extra,
    };
  }

  /** One instance of a multi-instance task: its coordination command, or (on the primary) its application command. */
  instanceRun(record: TaskRecord, job: Job, id: number, phase: 'coordination' | 'application'): TaskRun {
    const instances = record.internal.instances ?? [];
    const instance = instances[id] as InstanceStatus;
    const settings = multiInstanceOf(record.task);
    const base = this.taskRun(record, job, instance.nodeInfo.taskRootDirectory, phase === 'application');
    // The REST reference: common resource files go to the task directory ($AZ_BATCH_TASK_SHARED_DIR), the task's own to wd/.
    const common = (settings?.commonResourceFiles ?? []).map((file) => ({ ...resolveResourceFile(this.context, record.account, file), inTaskDirectory: true }));
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
