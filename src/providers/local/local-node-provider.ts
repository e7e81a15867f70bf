// LocalNodeProvider: compute nodes on this machine. Each node is an agent
// process of its own (`lapis agent`, agent/agent-process.ts) rooted at
// `<nodesDirectory>/<nodeId>`, started here and spoken to only over the
// agent protocol (api/node/), with a credential that reaches its node alone.
// The agents connect to a hub on a loopback port of this provider's own.
// The reference provider: a new one implements the same NodeProvider port.

import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { AgentSettings } from '../../agent/agent-settings.js';
import type { AzureNamesForTasks } from '../../agent/azure-names-in-tasks.js';
import { recordedOutcomes } from '../../agent/run-records.js';
import { nativeSpawnWanted } from '../../agent/task-launcher.js';
import { AgentHub, type AgentConnection } from '../../api/node/agent-hub.js';
import type { AgentRequest } from '../../api/node/protocol.js';
import type { ContainerTaskRuntime, NodeContainerImages } from '../../core/container-settings.js';
import type { NodeEvents, NodeFileSystem, NodePlacement, NodeProvider, NodeUserAccounts, TaskRun, TaskRunRef, TaskRunReport } from '../../core/ports.js';
import { processAgentHost, type AgentHost } from './agent-host.js';
import { agentProgram } from './agent-program.js';
import { AwaitedNodeFiles } from './awaited-node-files.js';
import { NodePackageGrants } from './node-package-grants.js';

export interface LocalNodeProviderOptions {
  nodesDirectory: string;
  /** Makes the OS accounts runs use (when the server runs as root); without it every run runs as the server's user. */
  userAccounts?: NodeUserAccounts;
  /** The control group that holds the nodes' runs (agent/cgroups.ts). */
  cgroupRoot?: string;
  clock: () => Date;
  /** How often each agent tells the server it is alive (NodeEvents.nodeHeartbeat). */
  heartbeatIntervalMs: number;
  /** Container pools: the images a node's pool names (undefined: not a container pool), and how its container runs run. */
  containers?: {
    imagesOf(placement: NodePlacement): NodeContainerImages | undefined;
    runtime(): ContainerTaskRuntime | undefined;
  };
  /** A CA certificate agents trust besides the system's: --azure-hostnames's local CA, whose blob endpoint resource and output files reach. */
  trustedCaFile?: string;
  /** --azure-hostnames: what each node's runs need to reach the endpoints on Azure's names (agent/azure-names-in-tasks.ts). */
  azureNames?: AzureNamesForTasks;
}

/** How long a new agent may take to connect. */
const CONNECT_TIMEOUT_MS = 30_000;
/** How long an agent told to end may take before it is killed. */
const EXIT_TIMEOUT_MS = 10_000;
/** How much of an agent's standard error is kept, to explain an agent that ended. */
const STDERR_TAIL_BYTES = 4096;

interface AgentProcess {
  placement: NodePlacement;
  child: ChildProcess;
  exited: Promise<void>;
  stderr: string;
}

export class LocalNodeProvider implements NodeProvider {
  readonly name = 'local';
  private readonly agents = new Map<string, AgentProcess>();
  /** Agents started and not yet connected, by node. */
  private readonly starting = new Map<string, Promise<AgentConnection>>();
  private readonly hub: AgentHub;
  private readonly packages = new NodePackageGrants();
  private hubUrl: Promise<string> | undefined;

  constructor(
    events: NodeEvents,
    private readonly options: LocalNodeProviderOptions,
    /** Where each node's agent runs: a process of this host (the default), or a container (providers/container). */
    private readonly host: AgentHost = processAgentHost,
  ) {
    this.hub = new AgentHub({
      reports: async (_nodeId, reports) => {
        await Promise.all(reports.map((report) => events.taskFinished(report)));
        // A reported run's container has ended: the node may not ask for it again.
        await Promise.all(reports.map((report) => this.host.siblings?.end(report.run)));
      },
      heartbeat: (nodeId, sample) => events.nodeHeartbeat(nodeId, sample),
      request: (nodeId, body) => this.answerAgent(nodeId, body),
    });
  }

  async provisionNode(placement: NodePlacement): Promise<void> {
    // The pool's auto user (the account a task runs as unless told otherwise), made while the agent starts rather than
    // at the node's first task, which would wait for it (useradd, one at a time); a Batch node has it from the start too.
    // A failure is not kept: the first run that needs the account asks again.
    if (!this.host.nodeMakesAccounts) void this.options.userAccounts?.autoUser(placement, 'pool').catch(() => undefined);
    const agent = await this.startAgent(placement);
    await this.ensureSiblingImages(placement);
    const containerImages = this.containerImagesOf(placement);
    await agent.request({ op: 'prepare', ...(containerImages ? { containerImages } : {}) });
  }

  /** The images a node of a container pool must have before it is ready, when its agent runs its container runs through an engine. */
  private containerImagesOf(placement: NodePlacement): NodeContainerImages | undefined {
    return !this.host.siblings && this.containerRuntime(placement)?.kind === 'engine' ? this.options.containers?.imagesOf(placement) : undefined;
  }

  /** How the node's container runs run, when its pool is a container pool: beside the node when its host runs them there. */
  private containerRuntime(placement: NodePlacement): ContainerTaskRuntime | undefined {
    const runtime = this.options.containers?.imagesOf(placement) ? this.options.containers.runtime() : undefined;
    return runtime?.kind === 'engine' && this.host.siblings ? { kind: 'sibling' } : runtime;
  }

  /** A node whose host runs its container runs: the pool's images are the host's to have before the node is ready. */
  private async ensureSiblingImages(placement: NodePlacement): Promise<void> {
    const images = this.containerRuntime(placement)?.kind === 'sibling' ? this.options.containers?.imagesOf(placement) : undefined;
    if (images) await this.host.siblings?.ensureImages(images);
  }

  async releaseNode(placement: NodePlacement): Promise<void> {
    await this.host.siblings?.endNode(placement.nodeId);
    const agent = await this.startAgent(placement);
    await agent.request({ op: 'destroy' });
    await this.ended(placement.nodeId, true);
    await this.host.release?.(placement, path.join(this.options.nodesDirectory, placement.nodeId));
    this.hub.revoke(placement.nodeId);
    this.packages.revoke(placement.nodeId);
    await this.options.userAccounts?.releaseNode(placement.nodeId);
  }

  async restartNode(placement: NodePlacement, options: { wipe: boolean }): Promise<void> {
    // A reboot ends every process of the node: its container runs beside it too.
    await this.host.siblings?.endNode(placement.nodeId);
    if (options.wipe && this.host.recreateOnReimage) {
      // A reimage starts the node from its image again: its agent (and what it ran in) ends first.
      await this.hub
        .connection(placement.nodeId)
        ?.request({ op: 'shutdown' })
        .catch(() => undefined);
      await this.ended(placement.nodeId, true);
    }
    const agent = await this.startAgent(placement);
    await this.ensureSiblingImages(placement);
    const containerImages = this.containerImagesOf(placement);
    await agent.request({ op: 'restart', wipe: options.wipe, ...(containerImages ? { containerImages } : {}) });
  }

  runTask(run: TaskRun): void {
    // An agent that is gone loses the run with its node: its heartbeats have stopped, and the node is recovered.
    const applicationPackages = this.packages.grant(run.nodeId, run.applicationPackages);
    const sent = this.host.siblings ? this.host.siblings.expect(run) : run;
    this.hub.connection(run.nodeId)?.startRun(applicationPackages ? { ...sent, applicationPackages } : sent, this.options.clock());
  }

  async stopTask(run: TaskRunRef): Promise<void> {
    await this.hub.connection(run.nodeId)?.request({ op: 'stop', run });
    await this.host.siblings?.end(run);
  }

  nodeFiles(placement: NodePlacement): NodeFileSystem | undefined {
    const connected = this.hub.connection(placement.nodeId);
    if (connected) return connected.files;
    const starting = this.starting.get(placement.nodeId);
    return starting ? new AwaitedNodeFiles(starting.then((agent) => agent.files)) : undefined;
  }

  outcomesRecordedBeforeRestart(): TaskRunReport[] {
    let nodeIds: string[];
    try {
      nodeIds = readdirSync(this.options.nodesDirectory);
    } catch {
      return [];
    }
    return nodeIds.flatMap((nodeId) => recordedOutcomes(this.host.nodeRoots(path.join(this.options.nodesDirectory, nodeId)).host));
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.agents.keys()].map(async (nodeId) => {
        await this.hub
          .connection(nodeId)
          ?.request({ op: 'shutdown' })
          .catch(() => undefined);
        await this.ended(nodeId, true);
      }),
    );
    await this.host.siblings?.close();
    await this.hub.close();
  }

  /** The node's agent, connected: the one already running, or a new one (a node provisioned, or recovered after its agent ended). */
  private startAgent(placement: NodePlacement): Promise<AgentConnection> {
    const connected = this.hub.connection(placement.nodeId);
    if (connected && this.agents.has(placement.nodeId)) return Promise.resolve(connected);
    // Known at once, so that the file API waits for the agent rather than finding no node.
    const starting = this.spawnAgent(placement).finally(() => {
      if (this.starting.get(placement.nodeId) === starting) this.starting.delete(placement.nodeId);
    });
    this.starting.set(placement.nodeId, starting);
    return starting;
  }

  private async spawnAgent(placement: NodePlacement): Promise<AgentConnection> {
    await this.ended(placement.nodeId, false);
    this.hubUrl ??= this.hub.listen('127.0.0.1');
    const [url, program] = await Promise.all([this.hubUrl, agentProgram()]);
    const nodeDirectory = path.join(this.options.nodesDirectory, placement.nodeId);
    const containers = this.containerRuntime(placement);
    const settings: AgentSettings = {
      ...(containers ? { containers } : {}),
      url,
      ...placement,
      credential: this.hub.issueCredential(placement.nodeId),
      root: this.host.nodeRoots(nodeDirectory).agent,
      cgroupRoot: this.options.cgroupRoot,
      nativeSpawn: nativeSpawnWanted(),
      osAccounts: this.host.nodeMakesAccounts ? 'node' : this.options.userAccounts ? 'server' : 'none',
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      clockOffsetMs: this.options.clock().getTime() - Date.now(),
      ...(this.options.azureNames ? { azureNames: this.options.azureNames } : {}),
      lifeline: true,
    };
    const child = this.host.start(placement, program, nodeDirectory, this.options.trustedCaFile);
    const agent: AgentProcess = { placement, child, stderr: '', exited: new Promise((resolve) => child.once('close', () => resolve())) };
    this.agents.set(placement.nodeId, agent);
    child.once('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    child.stdin?.write(`${JSON.stringify(settings)}\n`);
    child.stderr?.on('data', (chunk: Buffer) => (agent.stderr = (agent.stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES)));
    // The server's life is not held up by its agents; the open standard input is each agent's lifeline.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    const gone = agent.exited.then(() => new Error(`The agent of node ${placement.nodeId} ended before it connected: ${agent.stderr.trim() || `exit ${child.exitCode ?? child.signalCode}`}`));
    return this.hub.waitForConnection(placement.nodeId, CONNECT_TIMEOUT_MS, gone);
  }

  /**
   * Waits for the node's agent process to end: one told to end gets a while
   * to do it, one that is not connected is killed at once. Nothing when there is none.
   */
  private async ended(nodeId: string, toldToEnd: boolean): Promise<void> {
    const agent = this.agents.get(nodeId);
    if (!agent) return;
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        agent.child.kill('SIGKILL');
        resolve();
      }, EXIT_TIMEOUT_MS);
    });
    if (!toldToEnd) agent.child.kill('SIGKILL');
    await Promise.race([agent.exited, killed]);
    clearTimeout(timer);
    if (this.agents.get(nodeId) === agent) this.agents.delete(nodeId);
  }

  /** What a node's agent asks: its OS accounts, made on this host, its runs' application packages, and its container runs run beside it. */
  private async answerAgent(nodeId: string, body: AgentRequest): Promise<unknown> {
    if (body.op === 'packages.read') return this.packages.read(nodeId, body.directory);
    const placement = this.agents.get(nodeId)?.placement;
    if (body.op === 'container.run') {
      if (!placement || !this.host.siblings) throw new Error('This node\'s host runs no containers beside it.');
      return this.host.siblings.run(placement, body);
    }
    const accounts = this.options.userAccounts;
    if (!placement || !accounts) throw new Error('This node has no OS accounts.');
    switch (body.op) {
      case 'accounts.ensure':
        return accounts.ensure(placement, body.user);
      case 'accounts.autoUser':
        return accounts.autoUser(placement, body.slot);
      case 'accounts.poolGroup':
        return accounts.poolGroup(placement);
    }
  }
}
