// Container runs on container nodes. A container node has no engine inside
// it, so its agent asks the host (`container.run` over the agent protocol)
// to run a run's container beside the node, as a sibling, with the engine
// that runs the nodes. The request only names a run: everything the engine
// is told comes from the host's own record of the runs the server handed
// that node (expect()) and of the node itself — the image, the command
// line, the working directory, the registry's credentials, the limits, the
// node's directory mounted at the path its agent sees it. A task running as
// admin in the node can read the node's credential and forge requests, so
// what a request carries is only what the node decides anyway: its own ids
// (checked to lie in the node's user namespace) and the task's environment
// (written to an env file, never read as options). Nothing in a request can
// name a host path, an image, an option or another node's run.
//
// A sibling runs:
//   - in the node's user namespace (Podman: the node's own range of host
//     ids), as the run's account of the node, with no capabilities and no
//     new privileges unless the run is admin (root in the node, as its
//     admin tasks are);
//   - with the node's directory mounted at /mnt/batch, as inside the node
//     (AZ_BATCH_* paths hold); the host's path to it is the host's, never
//     the request's, and the node cannot replace it (its parent is root's);
//   - on the node's network: container nodes use the host's, and so do their
//     siblings (`--network=host`, which is also what process nodes' container
//     tasks get);
//   - with its node's vmSize limits of its own (not within the node's: the
//     engine puts a container in a control group of its own);
//   - with stdout/stderr appended by the host to the task directory's files,
//     opened without following any link the node planted;
//   - ended by maxWallClockTime, by the run's stop, by the node's reboot,
//     reimage or removal, and by the server's stop; a server killed outright
//     leaves siblings that the next one removes with its nodes' containers
//     (the same label), as their runs are requeued with their nodes.
// Registry passwords stay here: the runs sent to the node lose them.

import fs from 'node:fs';
import path from 'node:path';
import { containerHosts, type AzureNamesForTasks } from '../../agent/azure-names-in-tasks.js';
import { containerLaunch, ensureImage, ensureNodeImages, invalidImageFailure, invalidSettingsFailure, removeContainer, type ContainerLaunch } from '../../agent/container-run.js';
import { TaskLauncher, type LaunchedRun } from '../../agent/task-launcher.js';
import type { ContainerRunReply, ContainerRunRequest } from '../../api/node/protocol.js';
import { splitCommandLine } from '../../core/command-line.js';
import type { ContainerEngine, NodeContainerImages } from '../../core/container-settings.js';
import type { NodePlacement, ReportedRun, TaskRun, TaskRunRef } from '../../core/ports.js';
import { SYSTEM_PATH } from '../../core/system-path.js';

/** Where a node is, as its host knows it. */
export interface SiblingNode {
  /** The node's directory on the host (mounted whole in the node). */
  directory: string;
  /** Its root (AZ_BATCH_NODE_ROOT_DIR) on the host, and as the node (and so its siblings) sees it. */
  roots: { host: string; agent: string };
  /** The engine words that put a sibling with its node: labels, network, mounts, ids, limits. */
  flags: string[];
}

export interface SiblingContainersOptions {
  engine: ContainerEngine;
  /** The ids a node's accounts may have: 0 up to (not including) this. */
  idLimit: number;
  /**
   * Where env and auth files go: a directory of the host's, never a node's,
   * made (only root's) when first needed, after removing what a server killed
   * before left there.
   */
  privateDirectory: string;
  /** The node as the host knows it; undefined when it is not one of the host's nodes. */
  nodeOf(placement: NodePlacement): SiblingNode | undefined;
  /** --azure-hostnames: the Azure names a sibling resolves to this server (azure-names-in-tasks.ts). */
  azureNames?: AzureNamesForTasks | undefined;
}

/** A request's part the host reads: which run, whom to run as, and the task's environment. */
export type SiblingRequest = Omit<ContainerRunRequest, 'op'>;

interface Expected {
  run: TaskRun;
  /** Once asked for: its end. */
  ended?: Promise<ContainerRunReply>;
  launch?: ContainerLaunch;
  launched?: LaunchedRun;
  /** Stopped (or its node ended) before or while it ran: it starts no container, or its container is removed. */
  stopped: boolean;
  /** Its container has ended and is removed: nothing is left to stop. */
  finished?: boolean;
}

/** Batch's failure when the host could not run a container it should have. */
function launchFailure(message: string): ContainerRunReply {
  return { kind: 'failed', failureInfo: { category: 'servererror', code: 'TaskLaunchFailed', message } };
}

export class SiblingContainers {
  private readonly expected = new Map<string, Expected>();
  private readonly launcher = new TaskLauncher();
  private privateDirectoryMade = false;

  constructor(private readonly options: SiblingContainersOptions) {}

  private get privateDirectory(): string {
    const directory = this.options.privateDirectory;
    if (!this.privateDirectoryMade) {
      removePrivateDirectory(directory);
      // Not recursive: a directory someone made meanwhile fails this rather than being used.
      fs.mkdirSync(directory, { mode: 0o700 });
      this.privateDirectoryMade = true;
    }
    return directory;
  }

  /** A node's pool's images, there or pulled before the node is ready; the first that cannot be had throws the node's ContainerInvalidImage. */
  ensureImages(images: NodeContainerImages): Promise<void> {
    return ensureNodeImages(this.options.engine, this.privateDirectory, images);
  }

  /** A container run the server handed a node: the only kind of run the node may ask for. What the node is sent loses the registry's password. */
  expect(run: TaskRun): TaskRun {
    if (!run.container) return run;
    this.expected.set(keyOf(run), { run, stopped: false });
    const { registry: _secret, ...container } = run.container;
    return { ...run, container };
  }

  /** The node's request, refused unless it names a container run handed to that very node, and whom it names lies in the node's ids. */
  run(placement: NodePlacement, request: SiblingRequest): Promise<ContainerRunReply> {
    if (!isRunRef(request.run)) return Promise.reject(new Error('A container run is named by its kind, job, task and attempt.'));
    const expected = this.expected.get(keyOf({ ...request.run, nodeId: placement.nodeId }));
    if (!expected || expected.run.nodeId !== placement.nodeId || expected.run.account !== placement.account || expected.run.poolId !== placement.poolId) {
      return Promise.reject(new Error('This node has no such container run.'));
    }
    const refusal = this.refusal(request);
    if (refusal) return Promise.reject(new Error(refusal));
    const node = this.options.nodeOf(placement);
    if (!node) return Promise.reject(new Error('This node is not one of this host\'s.'));
    expected.ended ??= this.start(expected, node, request).catch((error: unknown) => launchFailure((error as Error).message));
    return expected.ended;
  }

  /** Why a request cannot be run as it stands, or undefined. */
  private refusal(request: SiblingRequest): string | undefined {
    const { owner, environment } = request;
    const id = (value: unknown) => Number.isInteger(value) && (value as number) >= 0 && (value as number) < this.options.idLimit;
    if (owner !== undefined) {
      if (typeof owner !== 'object' || owner === null || !id(owner.uid) || !id(owner.gid)) return `A container run's user and group must be ids of the node (0 to ${this.options.idLimit - 1}).`;
      if (owner.groups !== undefined && (!Array.isArray(owner.groups) || owner.groups.length > 64 || !owner.groups.every(id))) return "A container run's groups must be ids of the node.";
    }
    if (typeof environment !== 'object' || environment === null || Array.isArray(environment) || !Object.values(environment).every((value) => typeof value === 'string')) {
      return "A container run's environment must map names to strings.";
    }
    return undefined;
  }

  private async start(expected: Expected, node: SiblingNode, request: SiblingRequest): Promise<ContainerRunReply> {
    const { run } = expected;
    const container = run.container;
    if (!container) return launchFailure('The run has no container.');
    const { engine } = this.options;
    try {
      await ensureImage(engine, this.privateDirectory, container.imageName, container.registry ? [container.registry] : []);
    } catch (error) {
      return { kind: 'failed', failureInfo: invalidImageFailure(container.imageName, (error as Error).message) };
    }
    const argv = splitCommandLine(run.commandLine);
    if (!argv.ok) return { kind: 'failed', failureInfo: { category: 'usererror', code: 'CommandLaunchFailed', message: `The command line could not be parsed: ${argv.reason}` } };
    try {
      expected.launch = await containerLaunch({
        engine,
        container,
        privateDirectory: this.privateDirectory,
        placement: node.flags,
        workingDirectory: path.posix.join(node.roots.agent, run.taskDirectory, 'wd'),
        argv: argv.argv,
        environment: { ...request.environment },
        owner: request.owner,
        admin: run.elevationLevel === 'admin',
        hosts: this.options.azureNames ? containerHosts(this.options.azureNames, run.accountUrl) : [],
      });
    } catch (error) {
      return { kind: 'failed', failureInfo: invalidSettingsFailure((error as Error).message) };
    }
    const launch = expected.launch;
    if (expected.stopped) {
      await removeContainer(engine, launch);
      return { kind: 'exited', code: null, signal: 'SIGKILL', timedOut: false };
    }
    const taskDirectory = path.join(node.roots.host, run.taskDirectory);
    const launched = this.launcher.start({
      program: launch.program,
      args: launch.args,
      cwd: this.privateDirectory,
      // The engine gets no task variable in its own environment: it would read its configuration from there.
      env: { PATH: SYSTEM_PATH },
      stdout: path.join(taskDirectory, run.outputNames?.stdout ?? 'stdout.txt'),
      stderr: path.join(taskDirectory, run.outputNames?.stderr ?? 'stderr.txt'),
      // The node owns everything below its directory: no link it left there is followed.
      outputRoot: node.directory,
    });
    expected.launched = launched;
    const { result, timedOut } = await this.launcher.resultWithin(launched, run.maxWallClockTimeMs, () => void removeContainer(engine, launch));
    await removeContainer(engine, launch);
    expected.finished = true;
    if (result.kind === 'lost') return launchFailure('The task launcher ended while the container ran.');
    if (result.kind === 'failed') {
      return result.stage === 'open' ? launchFailure(`The task's output files could not be opened: ${result.message}`) : launchFailure(`The container engine could not be started: ${result.message}`);
    }
    return { kind: 'exited', code: result.code, signal: result.signal, timedOut };
  }

  /** The run is over (reported) or stopped (every phase of a multi-instance run when none is named): its container, if any, is removed, and the node may not ask for it again. */
  async end(ref: ReportedRun): Promise<void> {
    const ended = [...this.expected].filter(([key]) => (ref.instance ? key === keyOf(ref) : key.startsWith(baseKeyOf(ref))));
    for (const [key] of ended) this.expected.delete(key);
    await Promise.all(ended.map(([, expected]) => this.stop(expected)));
  }

  /** The node reboots, is reimaged or removed: every container it runs ends. */
  async endNode(nodeId: string): Promise<void> {
    const ofNode = [...this.expected].filter(([, expected]) => expected.run.nodeId === nodeId);
    for (const [key] of ofNode) this.expected.delete(key);
    await Promise.all(ofNode.map(([, expected]) => this.stop(expected)));
  }

  private async stop(expected: Expected): Promise<void> {
    expected.stopped = true;
    if (expected.finished) return;
    if (expected.launched) this.launcher.kill(expected.launched, 'stopped');
    if (expected.launch) await removeContainer(this.options.engine, expected.launch);
  }

  /** The server stops: every sibling ends with its node. */
  async close(): Promise<void> {
    const all = [...this.expected.values()];
    this.expected.clear();
    await Promise.all(all.map((expected) => this.stop(expected)));
    await this.launcher.close();
    if (this.privateDirectoryMade) removePrivateDirectory(this.options.privateDirectory);
    this.privateDirectoryMade = false;
  }
}

/** Removes the private directory (a link there is removed, not followed); quiet when it is not there. */
export function removePrivateDirectory(directory: string): void {
  fs.rmSync(directory, { recursive: true, force: true });
}

/** A run by its node and attempt (and a multi-instance task's phase): what a node may name. */
function keyOf(ref: ReportedRun): string {
  return `${baseKeyOf(ref)}${JSON.stringify(ref.instance?.phase ?? '')}]`;
}

function baseKeyOf(ref: TaskRunRef): string {
  return `[${JSON.stringify([ref.kind, ref.account, ref.nodeId, ref.jobId.toLowerCase(), ref.taskId.toLowerCase(), ref.attempt]).slice(1, -1)},`;
}

function isRunRef(value: unknown): value is ReportedRun {
  const ref = value as Partial<ReportedRun> | null;
  return typeof ref === 'object' && ref !== null && typeof ref.kind === 'string' && typeof ref.jobId === 'string' && typeof ref.taskId === 'string' && typeof ref.attempt === 'number' && (ref.instance === undefined || typeof ref.instance === 'object');
}
