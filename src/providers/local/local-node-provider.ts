// LocalNodeProvider: compute nodes as directories and processes on this
// machine. Each node is a NodeAgent rooted at `<nodesDirectory>/<nodeId>`;
// all of them start their task processes through one TaskLauncher.
// The reference provider: a new one implements the same NodeProvider port.

import { readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { NodeAgent, type NodeAgentOptions } from '../../agent/node-agent.js';
import { recordedOutcomes } from '../../agent/run-records.js';
import { TaskLauncher } from '../../agent/task-launcher.js';
import type { NodeEvents, NodePlacement, NodeProvider, TaskRun, TaskRunRef, TaskRunReport } from '../../core/ports.js';

export interface LocalNodeProviderOptions extends NodeAgentOptions {
  nodesDirectory: string;
}

export class LocalNodeProvider implements NodeProvider {
  readonly name = 'local';
  private readonly agents = new Map<string, NodeAgent>();
  private readonly launcher = new TaskLauncher();

  constructor(
    private readonly events: NodeEvents,
    private readonly options: LocalNodeProviderOptions,
  ) {}

  private agentFor(placement: NodePlacement): NodeAgent {
    let agent = this.agents.get(placement.nodeId);
    if (!agent) {
      agent = new NodeAgent(placement, path.join(this.options.nodesDirectory, placement.nodeId), this.events, this.options, this.launcher);
      this.agents.set(placement.nodeId, agent);
    }
    return agent;
  }

  async provisionNode(placement: NodePlacement): Promise<void> {
    await this.agentFor(placement).prepare();
    await this.closeNodeRoot(placement);
  }

  /**
   * Local nodes share one machine: a node's root is open to its pool's group
   * alone (every OS account its runs use has it), so tasks of another pool
   * or account cannot enter it, whatever path they guess.
   */
  private async closeNodeRoot(placement: NodePlacement): Promise<void> {
    const root = path.join(this.options.nodesDirectory, placement.nodeId);
    const accounts = this.options.userAccounts;
    if (accounts) await fs.chown(root, 0, await accounts.poolGroup(placement));
    await fs.chmod(root, accounts ? 0o750 : 0o700);
  }

  async releaseNode(placement: NodePlacement): Promise<void> {
    const agent = this.agentFor(placement);
    this.agents.delete(placement.nodeId);
    await agent.destroy();
    await this.options.userAccounts?.releaseNode(placement.nodeId);
  }

  async restartNode(placement: NodePlacement, options: { wipe: boolean }): Promise<void> {
    await this.agentFor(placement).restart(options.wipe);
    await this.closeNodeRoot(placement);
  }

  runTask(run: TaskRun): void {
    this.agentFor(run).run(run);
  }

  async stopTask(run: TaskRunRef): Promise<void> {
    await this.agents.get(run.nodeId)?.stop(run);
  }

  nodeFiles(placement: NodePlacement) {
    return this.agents.get(placement.nodeId)?.files;
  }

  outcomesRecordedBeforeRestart(): TaskRunReport[] {
    let nodeIds: string[];
    try {
      nodeIds = readdirSync(this.options.nodesDirectory);
    } catch {
      return [];
    }
    return nodeIds.flatMap((nodeId) => recordedOutcomes(path.join(this.options.nodesDirectory, nodeId)));
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((agent) => agent.shutdown()));
    this.agents.clear();
    await this.launcher.close();
  }
}
