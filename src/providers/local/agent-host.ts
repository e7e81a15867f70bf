// Where a node's agent process runs. The process host runs it on this
// machine; the container host (providers/container) runs it as the main
// process of the node's own container. Either way the provider writes the
// agent's settings on the child's standard input and keeps it open as the
// agent's lifeline, and the child's end is the agent's end.

import { spawn, type ChildProcess } from 'node:child_process';
import type { ContainerRunReply, ContainerRunRequest } from '../../api/node/protocol.js';
import type { NodeContainerImages } from '../../core/container-settings.js';
import type { NodePlacement, ReportedRun, TaskRun } from '../../core/ports.js';

export interface AgentHost {
  /**
   * Starts `node <program> --node <nodeId>` for the node (its directory on this host given), with standard input and error piped;
   * `trustedCaFile`, a CA certificate the agent trusts besides the system's (NODE_EXTRA_CA_CERTS).
   */
  start(placement: NodePlacement, program: string, nodeDirectory: string, trustedCaFile?: string): ChildProcess;
  /** The node's root (AZ_BATCH_NODE_ROOT_DIR): where it is on this host, and where its agent sees it. */
  nodeRoots(nodeDirectory: string): { host: string; agent: string };
  /** A reimage must start the agent afresh from the node's image (a container's file system), not only wipe the node's directories. */
  readonly recreateOnReimage?: boolean;
  /** The agent makes its runs' OS accounts itself, on a machine that is its node alone (a container). */
  readonly nodeMakesAccounts?: boolean;
  /** The node is gone and its agent has ended: what the host kept for it goes (its directory, once the agent removed what is inside). */
  release?(placement: NodePlacement, nodeDirectory: string): Promise<void>;
  /** Runs its nodes' container runs beside them (container nodes have no engine inside): providers/container/sibling-containers.ts. */
  readonly siblings?: SiblingContainerHost;
}

/** The host's side of `container.run`: the runs it expects of each node, and their containers. */
export interface SiblingContainerHost {
  /** A node's pool's images, there or pulled before the node is ready; throws the node's ContainerInvalidImage. */
  ensureImages(images: NodeContainerImages): Promise<void>;
  /** A run handed to a node; answers the run as the node is sent it (without secrets it need not hold). */
  expect(run: TaskRun): TaskRun;
  /** A node asks for a container run: refused unless it is one handed to that node; answered with the container's end. */
  run(placement: NodePlacement, request: Omit<ContainerRunRequest, 'op'>): Promise<ContainerRunReply>;
  /** The run was reported or stopped: its container goes, and the node may not ask for it again. */
  end(run: ReportedRun): Promise<void>;
  /** Every container of the node goes (its reboot, reimage or removal). */
  endNode(nodeId: string): Promise<void>;
  close(): Promise<void>;
}

export const processAgentHost: AgentHost = {
  nodeRoots: (nodeDirectory) => ({ host: nodeDirectory, agent: nodeDirectory }),
  start(placement, program, _nodeDirectory, trustedCaFile) {
    // None of the server's environment (account keys among it) reaches a node. Its own process group: a
    // Ctrl-C meant for the server does not end the node before the server shuts it down.
    const env = trustedCaFile ? { NODE_EXTRA_CA_CERTS: trustedCaFile } : {};
    return spawn(process.execPath, [program, '--node', placement.nodeId], { stdio: ['pipe', 'ignore', 'pipe'], detached: true, env });
  },
};
