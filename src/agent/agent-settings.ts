// What a node's agent is told when it starts (`lapis agent`, one JSON object
// on its standard input): never on its command line, where every user of the
// host could read its credential.

import type { ContainerTaskRuntime } from '../core/container-settings.js';
import type { AzureNamesForTasks } from './azure-names-in-tasks.js';

export interface AgentSettings {
  /** The agent protocol's WebSocket URL (api/node/protocol.ts). */
  url: string;
  account: string;
  poolId: string;
  nodeId: string;
  /** This node's credential, issued by the server; reaches only this node's work. */
  credential: string;
  /** The node's root directory (AZ_BATCH_NODE_ROOT_DIR). */
  root: string;
  /** The control group that holds this host's nodes' runs (cgroups.ts); absent: runs are ended by process group and uid. */
  cgroupRoot?: string;
  /**
   * Whom runs run as: `server`, OS accounts the server makes on the host
   * (process nodes, the agent running as root); `node`, accounts the agent
   * makes itself on its own machine (a container node); `none`, the agent's own user.
   */
  osAccounts: 'server' | 'node' | 'none';
  heartbeatIntervalMs: number;
  /** Added to this host's clock for the times the agent reports (a server whose clock is shifted, in tests). */
  clockOffsetMs?: number;
  /** How the node runs container tasks (its pool has containerConfiguration); absent: it has none. */
  containers?: ContainerTaskRuntime;
  /** --azure-hostnames: the CA runs trust and where Azure's names of this server are (azure-names-in-tasks.ts); absent: not in that mode. */
  azureNames?: AzureNamesForTasks;
  /** false: the launcher starts processes through Node's child_process, not its native spawner (LAPIS_NATIVE_SPAWN=off on the server). */
  nativeSpawn?: boolean;
  /** The agent exits when its standard input closes: it lives no longer than the process that started it. */
  lifeline: boolean;
}
