// Where a node's agent process runs. The process host runs it on this
// machine; the container host (providers/container) runs it as the main
// process of the node's own container. Either way the provider writes the
// agent's settings on the child's standard input and keeps it open as the
// agent's lifeline, and the child's end is the agent's end.

import { spawn, type ChildProcess } from 'node:child_process';
import type { NodePlacement } from '../../core/ports.js';

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
