// The node agent: one compute node's directories and processes. It lays the
// node out as on a Batch Linux node, downloads a task's resource files,
// starts its command line as a process (no shell) in its own process group
// with stdout.txt / stderr.txt written live, enforces maxWallClockTime,
// uploads the task's output files once the process has ended, and reports
// the outcome. It knows nothing of the server but the NodeEvents port.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { splitCommandLine } from '../core/command-line.js';
import type { NodeEvents, NodeFileSystem, TaskRun, TaskRunRef } from '../core/ports.js';
import type { TaskRunOutcome } from '../core/task.js';
import { formatTimestamp } from '../core/time.js';
import { ConfinedNodeFiles } from './node-files.js';
import { uploadOutputFiles } from './output-files.js';
import { installApplicationPackages, writeCertificates } from './node-setup.js';
import { downloadResourceFiles, ResourceFileError, type Owner } from './resource-files.js';

const NODE_DIRECTORIES = ['applications', 'fsmounts', 'shared', 'startup', 'startup/wd', 'volatile', 'workitems'];
const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface NodeAgentOptions {
  /** The user non-admin tasks run as when the agent runs as root. */
  taskUser?: Owner & { name: string };
  clock: () => Date;
}

interface RunningTask {
  run: TaskRun;
  child?: ChildProcess;
  stopped: boolean;
  /** Aborts output file uploads when the run is stopped. */
  aborter: AbortController;
}

export class NodeAgent {
  private readonly running = new Map<string, RunningTask>();
  /** Process groups of finished coordination commands, ended when their multi-instance task ends. */
  private readonly lingering = new Map<string, number>();
  readonly files: NodeFileSystem;

  constructor(
    readonly nodeId: string,
    private readonly root: string,
    private readonly events: NodeEvents,
    private readonly options: NodeAgentOptions,
  ) {
    this.files = new ConfinedNodeFiles(root);
  }

  async prepare(): Promise<void> {
    for (const directory of NODE_DIRECTORIES) await fs.mkdir(path.join(this.root, directory), { recursive: true });
    // Like AZ_BATCH_NODE_SHARED_DIR on Batch: read/write for every task on the node.
    await fs.chmod(path.join(this.root, 'shared'), 0o1777);
    await this.killLeftovers();
  }

  private get pidDirectory(): string {
    return path.join(this.root, 'volatile', 'pids');
  }

  /**
   * A previous agent process that died (kill -9) leaves its tasks running:
   * their runs were requeued, so their process groups are ended before the
   * node takes new work, or a task would run twice at once.
   */
  private async killLeftovers(): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.pidDirectory);
    } catch {
      return;
    }
    for (const name of names) {
      const pid = Number(name);
      if (Number.isInteger(pid) && pid > 1) killGroup(pid);
      await fs.rm(path.join(this.pidDirectory, name), { force: true });
    }
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
        // A coordination command may leave daemons in its process group: they live until the task ends.
        if (run.instance?.phase === 'coordination' && entry.child?.pid) this.lingering.set(runKey(run), entry.child.pid);
        if (!entry.stopped) this.events.taskFinished({ run, outcome });
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
    killTree(entry.child);
  }

  async destroy(): Promise<void> {
    for (const entry of this.running.values()) {
      entry.stopped = true;
      entry.aborter.abort();
      killTree(entry.child);
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

  /** Ends every process but keeps the files (server shutdown). */
  shutdown(): void {
    for (const entry of this.running.values()) {
      entry.stopped = true;
      entry.aborter.abort();
      killTree(entry.child);
    }
    this.running.clear();
  }

  private owner(run: TaskRun): Owner | undefined {
    const user = this.options.taskUser;
    if (!user || run.elevationLevel === 'admin') return undefined;
    return user;
  }

  private async execute(entry: RunningTask): Promise<TaskRunOutcome> {
    const { run } = entry;
    const taskDirectory = path.join(this.root, run.taskDirectory);
    const workingDirectory = path.join(taskDirectory, 'wd');
    const owner = this.owner(run);
    await fs.mkdir(workingDirectory, { recursive: true });
    if (owner) await fs.chown(workingDirectory, owner.uid, owner.gid);
    // AZ_BATCH_TASK_SHARED_DIR (the task directory) is read/write for a multi-instance task's commands.
    if (owner && run.instance) await fs.chown(taskDirectory, owner.uid, owner.gid);
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
    await writeCertificates(path.join(taskDirectory, 'certs'), run.certificates, owner);
    try {
      if (!run.isRetry) await downloadResourceFiles(run.resourceFiles, workingDirectory, owner);
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
      USER: owner ? (this.options.taskUser?.name ?? '') : 'root',
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
      AZ_BATCH_TASK_USER: owner ? (this.options.taskUser?.name ?? '') : 'root',
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
    const stdout = openSync(path.join(taskDirectory, run.outputNames?.stdout ?? 'stdout.txt'), 'a', 0o644);
    const stderr = openSync(path.join(taskDirectory, run.outputNames?.stderr ?? 'stderr.txt'), 'a', 0o644);
    let exited: { outcome: TaskRunOutcome; ran: boolean };
    try {
      const [program, ...args] = argv.argv as [string, ...string[]];
      exited = await new Promise<{ outcome: TaskRunOutcome; ran: boolean }>((resolve) => {
        let timedOut = false;
        const child = spawn(program, args, {
          cwd: workingDirectory,
          env: environment,
          stdio: ['ignore', stdout, stderr],
          detached: true,
          uid: owner?.uid,
          gid: owner?.gid,
        });
        entry.child = child;
        if (child.pid) {
          const pidFile = path.join(this.pidDirectory, String(child.pid));
          // A pid file that cannot be written (a full disk) only costs the cleanup after a crash.
          const written = fs
            .mkdir(this.pidDirectory, { recursive: true })
            .then(() => fs.writeFile(pidFile, run.taskId))
            .catch(() => undefined);
          // Removed only after it was written, so no stale pid outlives its process.
          child.once('close', () => void written.finally(() => fs.rm(pidFile, { force: true })).catch(() => undefined));
        }
        const timer =
          run.maxWallClockTimeMs === undefined
            ? undefined
            : setTimeout(() => {
                timedOut = true;
                killTree(child);
              }, run.maxWallClockTimeMs);
        child.once('error', (error: NodeJS.ErrnoException) => {
          if (timer) clearTimeout(timer);
          const notFound = error.code === 'ENOENT' || error.code === 'EACCES';
          resolve({
            ran: false,
            outcome: ended({
              failureInfo: {
                category: 'usererror',
                code: notFound ? 'CommandProgramNotFound' : 'CommandLaunchFailed',
                message: notFound ? `The program '${program}' could not be found or run.` : `The task could not be started: ${error.message}`,
              },
            }),
          });
        });
        child.once('exit', (code, signal) => {
          if (timer) clearTimeout(timer);
          // The task is done when its process is; stray children of it are ended too.
          killTree(child);
          if (timedOut) {
            resolve({
              ran: true,
              outcome: ended({
                exitCode: code ?? signalExitCode(signal),
                failureInfo: { category: 'usererror', code: 'MaxWallClockTimeExpiry', message: 'The task ran longer than its maxWallClockTime and was terminated.' },
              }),
            });
            return;
          }
          resolve({ ran: true, outcome: ended({ exitCode: code ?? signalExitCode(signal) }) });
        });
      });
    } finally {
      closeSync(stdout);
      closeSync(stderr);
    }

    // Batch uploads output files only for a process that ran, and the task completes once they are up.
    const { outcome } = exited;
    if (!exited.ran || run.outputFiles.length === 0 || entry.stopped) return outcome;
    const uploadFailure = await uploadOutputFiles({
      outputFiles: run.outputFiles,
      taskDirectory,
      workingDirectory,
      environment,
      processFailed: outcome.failureInfo !== undefined || (outcome.exitCode ?? 0) !== 0,
      clock: this.options.clock,
      signal: entry.aborter.signal,
    });
    // The exit code stays; an earlier failure (maxWallClockTime) stays the task's failureInfo.
    return { ...outcome, failureInfo: outcome.failureInfo ?? uploadFailure, endTime: formatTimestamp(this.options.clock()) };
  }
}

function runKey(ref: TaskRunRef): string {
  return `${ref.account}\n${ref.jobId.toLowerCase()}\n${ref.taskId.toLowerCase()}\n${ref.attempt}`;
}

/** Shell convention: a process ended by signal N exits 128 + N. */
function signalExitCode(signal: NodeJS.Signals | null): number {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };
  return 128 + (signal ? (numbers[signal] ?? 0) : 0);
}

/** Kills the task's whole process group (it was started detached, as its leader). */
function killTree(child: ChildProcess | undefined): void {
  if (child?.pid) killGroup(child.pid);
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}
