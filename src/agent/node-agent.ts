// The node agent: one compute node's directories and processes. It lays the
// node out as on a Batch Linux node, downloads a task's resource files,
// starts its command line as a process (no shell) in its own process group
// through the task launcher, with stdout.txt / stderr.txt written live, and
// has it recorded so a restarted server can recover it; enforces maxWallClockTime,
// uploads the task's output files once the process has ended, and reports
// the outcome. It knows nothing of the server but its NodeAgentEvents.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { batchEnvironment } from '../core/batch-environment.js';
import { splitCommandLine } from '../core/command-line.js';
import { reportedRunOf, type NodeFileSystem, type NodePlacement, type NodeUserAccounts, type OsAccount, type TaskRun, type TaskRunRef, type TaskRunReport } from '../core/ports.js';
import type { TaskRunOutcome } from '../core/task.js';
import { NODE_USAGE_INTERVAL_MS, type NodeUsageSample } from '../core/node-usage.js';
import { formatTimestamp } from '../core/time.js';
import { ConfinedNodeFiles } from './node-files.js';
import { makeTaskDirectories, openOrReplaceDirectory, removePath, withDirectory } from './no-follow.js';
import { uploadOutputFiles } from './output-files.js';
import { installApplicationPackages, writeCertificates, type FetchPackage } from './node-setup.js';
import { downloadResourceFiles, ResourceFileError } from './resource-files.js';
import type { RunRecord } from './launcher-protocol.js';
import type { ContainerRunReply, ContainerRunRequest } from '../api/node/protocol.js';
import { killGroupTree } from './cgroups.js';
import { NodeUsageMeter } from './node-usage-meter.js';
import { killGroup, killUserProcesses } from './process-groups.js';
import { RunUsers } from './run-users.js';
import { endLeftoverRuns, pidDirectoryOf, processOutcome } from './run-records.js';
import type { LaunchedRun, TaskLauncher } from './task-launcher.js';
import { SYSTEM_PATH } from '../core/system-path.js';
import type { ContainerEngine, ContainerTaskRuntime, NodeContainerImages } from '../core/container-settings.js';
import { containerHosts, installTrustedCa, trustVariables, type AzureNamesForTasks } from './azure-names-in-tasks.js';
import { containerLaunch, enginePrivateDirectory, ensureImage, ensureNodeImages, processNodePlacement, invalidImageFailure, invalidSettingsFailure, removeContainer, removeNodeContainers, type ContainerLaunch } from './container-run.js';

/** The node's directories, each with the mode it is given: shared is every task's (as AZ_BATCH_NODE_SHARED_DIR on Batch), the launcher's run records the agent's alone. */
const NODE_DIRECTORIES: readonly (readonly [string, number?])[] = [
  ['applications'],
  ['fsmounts'],
  ['shared', 0o1777],
  ['startup'],
  ['startup/wd'],
  ['volatile'],
  ['volatile/pids', 0o700],
  ['workitems'],
];

/** What the agent tells the server (agent-process.ts sends it over the agent protocol). */
export interface NodeAgentEvents {
  /** Resolves once the server has acknowledged the report: until then the run's record stays for a restarted server. */
  taskFinished(report: TaskRunReport): Promise<void>;
  /** The agent is alive: sent from the node's preparation until shutdown, at the heartbeat interval, and with each usage sample. */
  nodeHeartbeat(sample?: NodeUsageSample): void;
}

export interface NodeAgentOptions {
  /** Makes the OS accounts runs use (when the agent runs as root); without it every run runs as the agent's own user. */
  userAccounts?: NodeUserAccounts;
  /** The control group that holds the nodes' runs (cgroups.ts); without it, runs are ended by process group and by uid. */
  cgroupRoot?: string;
  clock: () => Date;
  /** How often the agent tells the server it is alive (NodeEvents.nodeHeartbeat). */
  heartbeatIntervalMs: number;
  /** The files of the application packages runs name, from the server. */
  fetchPackage: FetchPackage;
  /** How container runs run here (their pool has containerConfiguration); absent: the node has no containers. */
  containers?: ContainerTaskRuntime;
  /** --azure-hostnames: the CA runs trust and the names container runs resolve (azure-names-in-tasks.ts). */
  azureNames?: AzureNamesForTasks;
  /** `sibling` containers: asks the node's host to run a container run beside the node, answering its end. */
  runBeside?(request: Omit<ContainerRunRequest, 'op'>): Promise<ContainerRunReply>;
}

/** A finished coordination command's processes (its process group, its control group), kept until its multi-instance task ends. */
interface LingeringRun {
  pid: number;
  cgroup?: string;
  owner?: OsAccount;
}

interface RunningTask {
  run: TaskRun;
  /** The run's process, once asked of the launcher. */
  launched?: LaunchedRun;
  stopped: boolean;
  /** Aborts output file uploads when the run is stopped. */
  aborter: AbortController;
  /** Whom the process runs as, once known; undefined: the agent's own user. */
  owner?: OsAccount;
  /** The control group that holds every process of the run. */
  cgroup?: string;
  /** The run's container, removed when the run is stopped or has ended. */
  container?: ContainerLaunch;
}

export class NodeAgent {
  private readonly running = new Map<string, RunningTask>();
  private readonly lingering = new Map<string, LingeringRun>();
  private readonly users: RunUsers | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private usageTimer: NodeJS.Timeout | undefined;
  private readonly usage: NodeUsageMeter;
  readonly files: NodeFileSystem;

  readonly nodeId: string;

  constructor(
    private readonly placement: NodePlacement,
    private readonly root: string,
    private readonly events: NodeAgentEvents,
    private readonly options: NodeAgentOptions,
    private readonly launcher: TaskLauncher,
  ) {
    this.nodeId = placement.nodeId;
    this.files = new ConfinedNodeFiles(root);
    this.users = options.userAccounts ? new RunUsers(placement, options.userAccounts) : undefined;
    this.usage = new NodeUsageMeter({ root, cgroup: this.cgroup, processGroups: () => this.runProcessGroups() });
  }

  /** The process group of every run whose processes may still be running (each run leads a group of its own). */
  private runProcessGroups(): number[] {
    const pids = [...this.running.values()].map((entry) => entry.launched?.pid);
    return [...pids, ...[...this.lingering.values()].map((entry) => entry.pid)].filter((pid): pid is number => pid !== undefined);
  }

  /** This node's control group: every run's group is below it. */
  private get cgroup(): string | undefined {
    return this.options.cgroupRoot ? path.join(this.options.cgroupRoot, this.nodeId) : undefined;
  }

  /** The node's engine, when container runs go through one. */
  private get engine(): ContainerEngine | undefined {
    return this.options.containers?.kind === 'engine' ? this.options.containers.engine : undefined;
  }

  /** `containerImages`: the pool's images, there (or pulled) before the node is ready; one that cannot be had fails the start. */
  async prepare(containerImages?: NodeContainerImages): Promise<void> {
    await fs.mkdir(this.root, { recursive: true });
    // Never through a link: an admin task may have put one where a node directory was.
    for (const [directory, mode] of NODE_DIRECTORIES) {
      const components = directory.split('/');
      const name = components.pop() as string;
      await withDirectory(this.root, components, async (parent) => {
        const made = await openOrReplaceDirectory(parent, name);
        try {
          if (mode !== undefined) await made.handle.chmod(mode);
        } finally {
          await made.close();
        }
      });
    }
    if (this.options.azureNames) await installTrustedCa(this.root, this.options.azureNames.caCertificate);
    if (containerImages && this.engine) await ensureNodeImages(this.engine, enginePrivateDirectory(this.root), containerImages);
    await endLeftoverRuns(this.root);
    await this.closeRoot();
    this.startHeartbeat();
  }

  /**
   * Nodes of one host share it: a node's root is open to its pool's group
   * alone (every OS account its runs use has it), so tasks of another pool
   * or account cannot enter it, whatever path they guess.
   */
  private async closeRoot(): Promise<void> {
    const accounts = this.options.userAccounts;
    if (accounts) await fs.chown(this.root, 0, await accounts.poolGroup(this.placement));
    await fs.chmod(this.root, accounts ? 0o750 : 0o700);
  }

  /** From a prepared node until shutdown: the server takes a node whose heartbeats stop for lost. */
  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.events.nodeHeartbeat();
    this.heartbeat = setInterval(() => this.events.nodeHeartbeat(), this.options.heartbeatIntervalMs);
    this.heartbeat.unref();
    // Usage is measured on a timer of its own: a heartbeat stays a few bytes, and a slow read never delays one.
    void this.usage.measure();
    this.usageTimer = setInterval(() => void this.sendUsage(), NODE_USAGE_INTERVAL_MS);
    this.usageTimer.unref();
  }

  private async sendUsage(): Promise<void> {
    const sample = await this.usage.measure().catch(() => undefined);
    if (sample && this.usageTimer) this.events.nodeHeartbeat(sample);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.usageTimer) clearInterval(this.usageTimer);
    this.heartbeat = undefined;
    this.usageTimer = undefined;
  }

  run(run: TaskRun): void {
    const entry: RunningTask = { run, stopped: false, aborter: new AbortController() };
    this.running.set(runKey(run), entry);
    void this.execute(entry)
      .catch((error: unknown): TaskRunOutcome => ({
        failureInfo: { category: 'servererror', code: 'TaskLaunchFailed', message: (error as Error).message },
        endTime: formatTimestamp(this.options.clock()),
      }))
      .then(async (outcome) => {
        this.running.delete(runKey(run));
        const pid = entry.launched?.pid;
        if (run.instance?.phase === 'coordination' && pid) {
          // A coordination command may leave daemons: they live until the task ends, unless it ended meanwhile.
          const lingering: LingeringRun = { pid, cgroup: entry.cgroup, owner: entry.owner };
          if (entry.stopped) await this.endLingering(run, lingering);
          else this.lingering.set(runKey(run), lingering);
        } else if (!run.instance) await this.endTaskUser(run, entry.owner);
        if (entry.stopped) return;
        await this.events.taskFinished({ run: reportedRunOf(run), outcome });
        // The server has the outcome: the run's record is no longer needed for a recovery.
        if (pid) this.launcher.forget(pidDirectoryOf(this.root), pid);
      });
  }

  /**
   * A task's run is over: without control groups, whatever its task-scope
   * user still runs is ended here (that uid is the task's alone); then the
   * user may serve another task.
   */
  private async endTaskUser(ref: TaskRunRef, owner: OsAccount | undefined): Promise<void> {
    if (!this.users || ref.kind === 'startTask') return;
    if (owner && !this.cgroup && this.users.slotOf(ref) !== undefined) await killUserProcesses(owner.uid);
    this.users.release(ref);
  }

  async stop(ref: TaskRunRef): Promise<void> {
    const lingering = this.lingering.get(runKey(ref));
    if (lingering) {
      this.lingering.delete(runKey(ref));
      // A multi-instance task's instance ends here, its coordination's daemons with it.
      await this.endLingering(ref, lingering);
    }
    const entry = this.running.get(runKey(ref));
    if (!entry) return;
    entry.stopped = true;
    entry.aborter.abort();
    this.endProcess(entry);
  }

  /** Ends what a finished coordination command left running, and frees its task-scope user. */
  private async endLingering(ref: TaskRunRef, lingering: LingeringRun): Promise<void> {
    killGroup(lingering.pid);
    if (lingering.cgroup) await killGroupTree(lingering.cgroup);
    await this.endTaskUser(ref, lingering.owner);
  }

  async destroy(): Promise<void> {
    await this.shutdown();
    await this.removeRoot();
  }

  /** A reboot (files kept) or a reimage (files removed): every process ends, then the node starts afresh, its pool's images checked again. */
  async restart(wipe: boolean, containerImages?: NodeContainerImages): Promise<void> {
    await this.shutdown();
    if (wipe) await this.removeRoot();
    await this.prepare(containerImages);
  }

  /** Removes the node's directory without following a link a task of the pool (on another node, as a named user) may plant meanwhile. */
  private async removeRoot(): Promise<void> {
    await removePath(path.dirname(this.root), [path.basename(this.root)], true).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /**
   * Ends every process the node's runs started (a start task's and a
   * coordination command's daemons too) and the heartbeat, but keeps the
   * files (server shutdown, reboot).
   */
  async shutdown(): Promise<void> {
    this.stopHeartbeat();
    for (const entry of this.running.values()) {
      entry.stopped = true;
      entry.aborter.abort();
      this.endProcess(entry);
    }
    this.running.clear();
    for (const { pid } of this.lingering.values()) killGroup(pid);
    this.lingering.clear();
    if (this.cgroup) await killGroupTree(this.cgroup);
    else for (const account of this.users?.accountsUsed() ?? []) await killUserProcesses(account.uid);
    // A container's processes are the engine's children, not the run's: they end with their containers.
    if (this.engine) await removeNodeContainers(this.engine, this.root);
  }

  private endProcess(entry: RunningTask): void {
    if (entry.launched) this.launcher.kill(entry.launched, 'stopped');
    if (entry.container && this.engine) void removeContainer(this.engine, entry.container);
  }

  private async execute(entry: RunningTask): Promise<TaskRunOutcome> {
    const { run } = entry;
    const taskDirectory = path.join(this.root, run.taskDirectory);
    const workingDirectory = path.join(taskDirectory, 'wd');
    const owner = this.users ? await this.users.acquire(run) : undefined;
    entry.owner = owner;
    // The task directory's parents are the agent's alone (root's, 0755, in the node root): made by path. The task
    // user may own the task directory and what is below (a retry) and have left links there: nothing below the
    // parent is followed, and ownership is given through the opened descriptors (no-follow.ts).
    const trustedParent = path.dirname(taskDirectory);
    makeTaskDirectories(trustedParent, path.basename(taskDirectory), owner, Boolean(run.instance));
    const startTime = formatTimestamp(this.options.clock());
    const ended = (outcome: Omit<TaskRunOutcome, 'endTime' | 'startTime'>): TaskRunOutcome => ({
      ...outcome,
      startTime,
      endTime: formatTimestamp(this.options.clock()),
    });

    if (run.preProcessingFailure) return ended({ failureInfo: run.preProcessingFailure });
    try {
      await installApplicationPackages(this.root, run.applicationPackages, this.options.fetchPackage);
    } catch (error) {
      return ended({ failureInfo: { category: 'servererror', code: 'ApplicationPackageError', message: `The application packages could not be installed: ${(error as Error).message}` } });
    }
    await writeCertificates(path.join(taskDirectory, 'certs'), run.certificates, owner, this.root);
    try {
      if (!run.isRetry) await downloadResourceFiles(run.resourceFiles, workingDirectory, owner, this.root, run.injectedFailure?.resourceFiles);
    } catch (error) {
      if (error instanceof ResourceFileError) return ended({ failureInfo: error.failureInfo });
      throw error;
    }
    if (entry.stopped) return ended({});

    const argv = splitCommandLine(run.commandLine);
    if (!argv.ok) {
      return ended({ failureInfo: { category: 'usererror', code: 'CommandLaunchFailed', message: `The command line could not be parsed: ${argv.reason}` } });
    }
    const taskEnvironment = {
      // The run's own settings may override the trust variables, never Batch's.
      ...(this.options.azureNames ? trustVariables(this.root) : {}),
      ...run.environment,
      ...batchEnvironment(run, { nodeRoot: this.root, taskDirectory, workingDirectory, userName: owner?.name ?? 'root' }),
    };
    const environment = { PATH: SYSTEM_PATH, LANG: 'C.UTF-8', HOME: workingDirectory, USER: owner?.name ?? 'root', ...taskEnvironment };
    if (run.container && this.options.containers?.kind === 'sibling') {
      const reply = await this.runBeside(run, owner, taskEnvironment);
      if (reply.kind === 'failed') return ended({ failureInfo: reply.failureInfo });
      return this.afterProcess(entry, { ...reply, inContainer: true }, ended, { taskDirectory, workingDirectory, environment });
    }
    const engine = run.container ? this.engine : undefined;
    if (run.container && engine) {
      try {
        await ensureImage(engine, enginePrivateDirectory(this.root), run.container.imageName, run.container.registry ? [run.container.registry] : []);
      } catch (error) {
        return ended({ failureInfo: invalidImageFailure(run.container.imageName, (error as Error).message) });
      }
      try {
        entry.container = await containerLaunch({
          engine,
          container: run.container,
          privateDirectory: enginePrivateDirectory(this.root),
          placement: processNodePlacement(this.root),
          workingDirectory,
          argv: argv.argv,
          // The image's own PATH, HOME and locale stay; Batch maps the task's variables in.
          environment: taskEnvironment,
          hosts: this.options.azureNames ? containerHosts(this.options.azureNames, run.accountUrl) : [],
          owner,
          admin: run.elevationLevel === 'admin',
        });
      } catch (error) {
        return ended({ failureInfo: invalidSettingsFailure((error as Error).message) });
      }
    }
    const [program, ...args] = argv.argv as [string, ...string[]];
    // A user with a gid of its own also needs the pool's, which lets it into the node.
    const command = entry.container
      ? { program: entry.container.program, args: entry.container.args }
      : { program, args, uid: owner?.uid, gid: owner?.gid, ...(owner?.groups ? { groups: [owner.gid, ...owner.groups] } : {}) };
    // Its own control group: whatever the run starts ends with it (a start task's and a coordination command's with the node or task).
    entry.cgroup = this.cgroup ? path.join(this.cgroup, `${run.kind}-${randomBytes(6).toString('hex')}`) : undefined;
    const keepProcesses = run.kind === 'startTask' || run.instance?.phase === 'coordination';
    const record: RunRecord = {
      run: { kind: run.kind, account: run.account, poolId: run.poolId, nodeId: run.nodeId, jobId: run.jobId, taskId: run.taskId, attempt: run.attempt },
      startTime,
      // A restart completes only a plain task from its exit; output files would still have to be uploaded.
      recoverable: run.kind === 'task' && !run.instance && run.outputFiles.length === 0,
    };
    const launched = this.launcher.start({
      ...command,
      cwd: workingDirectory,
      // The engine gets no task variable in its own environment: it would read its configuration from there.
      env: entry.container ? { PATH: SYSTEM_PATH } : environment,
      ...(entry.cgroup && this.options.cgroupRoot ? { cgroup: { path: entry.cgroup, home: path.join(this.options.cgroupRoot, 'launcher') } } : {}),
      keepProcesses,
      stdout: path.join(taskDirectory, run.outputNames?.stdout ?? 'stdout.txt'),
      stderr: path.join(taskDirectory, run.outputNames?.stderr ?? 'stderr.txt'),
      // Opened from the node root without following a link the task may have left in its directory.
      outputRoot: trustedParent,
      pidDirectory: pidDirectoryOf(this.root),
      record: JSON.stringify(record),
    });
    entry.launched = launched;
    const { result, timedOut } = await this.launcher.resultWithin(launched, run.maxWallClockTimeMs, () => {
      if (entry.container && engine) void removeContainer(engine, entry.container);
    });
    if (entry.container && engine) await removeContainer(engine, entry.container);
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
    return this.afterProcess(entry, { code: result.code, signal: result.signal, timedOut, inContainer: entry.container !== undefined }, ended, { taskDirectory, workingDirectory, environment });
  }

  /** A container run on a container node: its host runs the container beside the node (it has no engine inside). */
  private runBeside(run: TaskRun, owner: OsAccount | undefined, environment: Record<string, string>): Promise<ContainerRunReply> {
    const ask = this.options.runBeside;
    if (!ask) throw new Error('This node cannot run containers: its host runs none beside it.');
    return ask({ run: reportedRunOf(run), ...(owner ? { owner: { uid: owner.uid, gid: owner.gid, ...(owner.groups ? { groups: owner.groups } : {}) } } : {}), environment });
  }

  /** A run's process has ended: its outcome, once its output files are up. */
  private async afterProcess(
    entry: RunningTask,
    exit: { code: number | null; signal: NodeJS.Signals | null; timedOut: boolean; inContainer: boolean },
    ended: (outcome: Omit<TaskRunOutcome, 'endTime' | 'startTime'>) => TaskRunOutcome,
    where: { taskDirectory: string; workingDirectory: string; environment: Record<string, string> },
  ): Promise<TaskRunOutcome> {
    const { run } = entry;
    // 125: the engine itself failed (the container could not be created or started); its words are in stderr.txt.
    if (exit.inContainer && exit.code === 125 && !exit.timedOut) {
      return ended({ failureInfo: invalidSettingsFailure('The container engine could not create or start the container; its reason is in stderr.txt.') });
    }
    const outcome = ended(processOutcome(exit));

    // Batch uploads output files only for a process that ran, and the task completes once they are up.
    if (run.outputFiles.length === 0 || entry.stopped) return outcome;
    const uploadFailure = await uploadOutputFiles({
      outputFiles: run.outputFiles,
      taskDirectory: where.taskDirectory,
      workingDirectory: where.workingDirectory,
      environment: where.environment,
      processFailed: outcome.failureInfo !== undefined || (outcome.exitCode ?? 0) !== 0,
      clock: this.options.clock,
      signal: entry.aborter.signal,
      nodeRoot: this.root,
      injected: run.injectedFailure?.outputFiles,
    });
    // The exit code stays; an earlier failure (maxWallClockTime) stays the task's failureInfo.
    return { ...outcome, failureInfo: outcome.failureInfo ?? uploadFailure, endTime: formatTimestamp(this.options.clock()) };
  }
}

function runKey(ref: TaskRunRef): string {
  return `${ref.account}\n${ref.jobId.toLowerCase()}\n${ref.taskId.toLowerCase()}\n${ref.attempt}`;
}
