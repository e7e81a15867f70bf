// The node agent: one compute node's directories and processes. It lays the
// node out as on a Batch Linux node, downloads a task's resource files,
// starts its command line as a process (no shell) in its own process group
// through the task launcher, with stdout.txt / stderr.txt written live, and
// has it recorded so a restarted server can recover it; enforces maxWallClockTime,
// uploads the task's output files once the process has ended, and reports
// the outcome. It knows nothing of the server but the NodeEvents port.

import fs from 'node:fs/promises';
import path from 'node:path';
import { splitCommandLine } from '../core/command-line.js';
import type { NodeEvents, NodeFileSystem, NodeUserAccounts, TaskRun, TaskRunRef } from '../core/ports.js';
import type { TaskRunOutcome } from '../core/task.js';
import { formatTimestamp } from '../core/time.js';
import { ConfinedNodeFiles } from './node-files.js';
import { componentsUnder, openChildDirectory, withDirectory } from './no-follow.js';
import { uploadOutputFiles } from './output-files.js';
import { installApplicationPackages, writeCertificates } from './node-setup.js';
import { downloadResourceFiles, ResourceFileError, type Owner } from './resource-files.js';
import type { RunRecord } from './launcher-protocol.js';
import { killGroup } from './process-groups.js';
import { endLeftoverRuns, pidDirectoryOf, processOutcome } from './run-records.js';
import type { LaunchedRun, TaskLauncher } from './task-launcher.js';

const NODE_DIRECTORIES = ['applications', 'fsmounts', 'shared', 'startup', 'startup/wd', 'volatile', 'volatile/pids', 'workitems'];
const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface NodeAgentOptions {
  /** The user non-admin tasks run as when the agent runs as root. */
  taskUser?: Owner & { name: string };
  /** Makes the pools' named users OS accounts (when the agent runs as root); without it they run as taskUser. */
  userAccounts?: NodeUserAccounts;
  clock: () => Date;
  /** How often the agent tells the server it is alive (NodeEvents.nodeHeartbeat). */
  heartbeatIntervalMs: number;
}

interface RunningTask {
  run: TaskRun;
  /** The run's process, once asked of the launcher. */
  launched?: LaunchedRun;
  stopped: boolean;
  /** Aborts output file uploads when the run is stopped. */
  aborter: AbortController;
}

export class NodeAgent {
  private readonly running = new Map<string, RunningTask>();
  /** Process groups of finished coordination commands, ended when their multi-instance task ends. */
  private readonly lingering = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  readonly files: NodeFileSystem;

  constructor(
    readonly nodeId: string,
    private readonly root: string,
    private readonly events: NodeEvents,
    private readonly options: NodeAgentOptions,
    private readonly launcher: TaskLauncher,
  ) {
    this.files = new ConfinedNodeFiles(root);
  }

  async prepare(): Promise<void> {
    for (const directory of NODE_DIRECTORIES) await fs.mkdir(path.join(this.root, directory), { recursive: true });
    // Like AZ_BATCH_NODE_SHARED_DIR on Batch: read/write for every task on the node.
    await fs.chmod(path.join(this.root, 'shared'), 0o1777);
    await endLeftoverRuns(this.root);
    this.startHeartbeat();
  }

  /** From a prepared node until shutdown: the server takes a node whose heartbeats stop for lost. */
  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.events.nodeHeartbeat(this.nodeId);
    this.heartbeat = setInterval(() => this.events.nodeHeartbeat(this.nodeId), this.options.heartbeatIntervalMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  run(run: TaskRun): void {
    const entry: RunningTask = { run, stopped: false, aborter: new AbortController() };
    this.running.set(runKey(run), entry);
    void this.execute(entry)
      .catch((error: unknown): TaskRunOutcome => ({
        failureInfo: { category: 'servererror', code: 'TaskLaunchFailed', message: (error as Error).message },
        endTime: formatTimestamp(this.options.clock()),
      }))
      .then((outcome) => {
        this.running.delete(runKey(run));
        const pid = entry.launched?.pid;
        // A coordination command may leave daemons in its process group: they live until the task ends.
        if (run.instance?.phase === 'coordination' && pid) this.lingering.set(runKey(run), pid);
        if (entry.stopped) return;
        this.events.taskFinished({ run, outcome });
        // The outcome is stored: the run's record is no longer needed for a recovery.
        if (pid) this.launcher.forget(pidDirectoryOf(this.root), pid);
      });
  }

  async stop(ref: TaskRunRef): Promise<void> {
    const lingering = this.lingering.get(runKey(ref));
    if (lingering) {
      this.lingering.delete(runKey(ref));
      killGroup(lingering);
    }
    const entry = this.running.get(runKey(ref));
    if (!entry) return;
    entry.stopped = true;
    entry.aborter.abort();
    this.endProcess(entry);
  }

  async destroy(): Promise<void> {
    this.stopHeartbeat();
    for (const entry of this.running.values()) {
      entry.stopped = true;
      entry.aborter.abort();
      this.endProcess(entry);
    }
    this.running.clear();
    await fs.rm(this.root, { recursive: true, force: true });
  }

  /** A reboot (files kept) or a reimage (files removed): every process ends, then the node starts afresh. */
  async restart(wipe: boolean): Promise<void> {
    this.shutdown();
    if (wipe) await fs.rm(this.root, { recursive: true, force: true });
    await this.prepare();
  }

  /** Ends every process and the heartbeat but keeps the files (server shutdown). */
  shutdown(): void {
    this.stopHeartbeat();
    for (const entry of this.running.values()) {
      entry.stopped = true;
      entry.aborter.abort();
      this.endProcess(entry);
    }
    this.running.clear();
  }

  private endProcess(entry: RunningTask): void {
    if (entry.launched) this.launcher.kill(entry.launched, 'stopped');
  }

  /** Whom the run's process runs as; undefined: as the agent (root when it runs as root). */
  private async owner(run: TaskRun): Promise<(Owner & { name: string }) | undefined> {
    if (run.user && this.options.userAccounts) {
      const account = await this.options.userAccounts.ensure({ account: run.account, poolId: run.poolId, nodeId: this.nodeId }, run.user);
      // An admin named user runs as root, as an admin autoUser does; its account (in the sudo group) still exists.
      return run.user.elevationLevel === 'admin' ? undefined : account;
    }
    const user = this.options.taskUser;
    if (!user || run.elevationLevel === 'admin') return undefined;
    return user;
  }

  private async execute(entry: RunningTask): Promise<TaskRunOutcome> {
    const { run } = entry;
    const taskDirectory = path.join(this.root, run.taskDirectory);
    const workingDirectory = path.join(taskDirectory, 'wd');
    const owner = await this.owner(run);
    // The task user may own these already (a retry) and have left links in them: nothing below the
    // node root is followed, and ownership is given through the opened descriptors (no-follow.ts).
    await withDirectory(
      this.root,
      componentsUnder(this.root, taskDirectory),
      async (task) => {
        // AZ_BATCH_TASK_SHARED_DIR (the task directory) is read/write for a multi-instance task's commands.
        if (owner && run.instance) await task.handle.chown(owner.uid, owner.gid);
        const wd = await openChildDirectory(task, 'wd', {});
        try {
          if (owner) await wd.handle.chown(owner.uid, owner.gid);
        } finally {
          await wd.close();
        }
      },
      {},
    );
    const startTime = formatTimestamp(this.options.clock());
    const ended = (outcome: Omit<TaskRunOutcome, 'endTime' | 'startTime'>): TaskRunOutcome => ({
      ...outcome,
      startTime,
      endTime: formatTimestamp(this.options.clock()),
    });

    if (run.preProcessingFailure) return ended({ failureInfo: run.preProcessingFailure });
    let packageEnvironment: Record<string, string>;
    try {
      packageEnvironment = await installApplicationPackages(this.root, run.applicationPackages);
    } catch (error) {
      return ended({ failureInfo: { category: 'servererror', code: 'ApplicationPackageError', message: `The application packages could not be installed: ${(error as Error).message}` } });
    }
    await writeCertificates(path.join(taskDirectory, 'certs'), run.certificates, owner, this.root);
    try {
      if (!run.isRetry) await downloadResourceFiles(run.resourceFiles, workingDirectory, owner, this.root);
    } catch (error) {
      if (error instanceof ResourceFileError) return ended({ failureInfo: error.failureInfo });
      throw error;
    }
    if (entry.stopped) return ended({});

    const argv = splitCommandLine(run.commandLine);
    if (!argv.ok) {
      return ended({ failureInfo: { category: 'usererror', code: 'CommandLaunchFailed', message: `The command line could not be parsed: ${argv.reason}` } });
    }
    const environment = {
      PATH: SAFE_PATH,
      LANG: 'C.UTF-8',
      HOME: workingDirectory,
      USER: owner?.name ?? 'root',
      ...run.environment,
      ...packageEnvironment,
      AZ_BATCH_POOL_ID: run.poolId,
      AZ_BATCH_NODE_ID: run.nodeId,
      AZ_BATCH_NODE_IS_DEDICATED: 'true',
      AZ_BATCH_NODE_ROOT_DIR: this.root,
      AZ_BATCH_NODE_SHARED_DIR: path.join(this.root, 'shared'),
      AZ_BATCH_NODE_STARTUP_DIR: path.join(this.root, 'startup'),
      AZ_BATCH_NODE_MOUNTS_DIR: path.join(this.root, 'fsmounts'),
      AZ_BATCH_TASK_DIR: taskDirectory,
      AZ_BATCH_TASK_WORKING_DIR: workingDirectory,
      AZ_BATCH_CERTIFICATES_DIR: path.join(taskDirectory, 'certs'),
      AZ_BATCH_TASK_USER: owner?.name ?? 'root',
      ...(run.instance
        ? {
            AZ_BATCH_HOST_LIST: run.instance.hostList.join(','),
            AZ_BATCH_MASTER_NODE: run.instance.masterNode,
            AZ_BATCH_IS_CURRENT_NODE_MASTER: String(run.instance.id === 0),
            AZ_BATCH_TASK_SHARED_DIR: taskDirectory,
          }
        : {}),
      ...(run.jobPreparationDirectory
        ? {
            AZ_BATCH_JOB_PREP_DIR: path.join(this.root, run.jobPreparationDirectory),
            AZ_BATCH_JOB_PREP_WORKING_DIR: path.join(this.root, run.jobPreparationDirectory, 'wd'),
          }
        : {}),
    };
    const [program, ...args] = argv.argv as [string, ...string[]];
    const record: RunRecord = {
      run: { kind: run.kind, account: run.account, poolId: run.poolId, nodeId: run.nodeId, jobId: run.jobId, taskId: run.taskId, attempt: run.attempt },
      startTime,
      // A restart completes only a plain task from its exit; output files would still have to be uploaded.
      recoverable: run.kind === 'task' && !run.instance && run.outputFiles.length === 0,
    };
    const launched = this.launcher.start({
      program,
      args,
      cwd: workingDirectory,
      env: environment,
      uid: owner?.uid,
      gid: owner?.gid,
      stdout: path.join(taskDirectory, run.outputNames?.stdout ?? 'stdout.txt'),
      stderr: path.join(taskDirectory, run.outputNames?.stderr ?? 'stderr.txt'),
      // Opened from the node root without following a link the task may have left in its directory.
      outputRoot: this.root,
      pidDirectory: pidDirectoryOf(this.root),
      record: JSON.stringify(record),
    });
    entry.launched = launched;
    let timedOut = false;
    const timer =
      run.maxWallClockTimeMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            this.launcher.kill(launched, 'timedOut');
          }, run.maxWallClockTimeMs);
    const result = await launched.result.finally(() => clearTimeout(timer));
    if (result.kind === 'lost') throw new Error('The task launcher ended while the task ran.');
    if (result.kind === 'failed') {
      if (result.stage === 'open') throw new Error(`The task's output files could not be opened: ${result.message}`);
      const notFound = result.code === 'ENOENT' || result.code === 'EACCES';
      return ended({
        failureInfo: {
          category: 'usererror',
          code: notFound ? 'CommandProgramNotFound' : 'CommandLaunchFailed',
          message: notFound ? `The program '${program}' could not be found or run.` : `The task could not be started: ${result.message}`,
        },
      });
    }
    const outcome = ended(processOutcome({ code: result.code, signal: result.signal, timedOut }));

    // Batch uploads output files only for a process that ran, and the task completes once they are up.
    if (run.outputFiles.length === 0 || entry.stopped) return outcome;
    const uploadFailure = await uploadOutputFiles({
      outputFiles: run.outputFiles,
      taskDirectory,
      workingDirectory,
      environment,
      processFailed: outcome.failureInfo !== undefined || (outcome.exitCode ?? 0) !== 0,
      clock: this.options.clock,
      signal: entry.aborter.signal,
      nodeRoot: this.root,
    });
    // The exit code stays; an earlier failure (maxWallClockTime) stays the task's failureInfo.
    return { ...outcome, failureInfo: outcome.failureInfo ?? uploadFailure, endTime: formatTimestamp(this.options.clock()) };
  }
}

function runKey(ref: TaskRunRef): string {
  return `${ref.account}\n${ref.jobId.toLowerCase()}\n${ref.taskId.toLowerCase()}\n${ref.attempt}`;
}
