// Container nodes: each node is a container of its own, created from the
// image its pool's imageReference maps to (node-images.ts), whose main
// process is the node's agent. The host's Node.js and the agent's code come
// in read-only, so images need no Node.js; the node's directory is mounted
// at /mnt/batch, the agent's root (AZ_BATCH_NODE_ROOT_DIR) being
// /mnt/batch/tasks as on a Batch Linux node. The container has its own
// hostname, process namespace, /tmp and package database; it shares the
// host's network (its agent reaches the server on loopback). Started with
// `run -i --rm`: the agent's standard input is its lifeline, and when the
// engine's client ends (the server died) the container ends and is removed.

import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AzureNamesForTasks } from '../../agent/azure-names-in-tasks.js';
import { removePath } from '../../agent/no-follow.js';
import type { ContainerEngine } from '../../core/container-settings.js';
import type { NodePlacement } from '../../core/ports.js';
import type { AgentHost } from '../local/agent-host.js';
import { removePrivateDirectory, SiblingContainers } from './sibling-containers.js';
import { vmSizeLimits } from './vm-sizes.js';
import { SYSTEM_PATH } from '../../core/system-path.js';

const execFileAsync = promisify(execFile);

/** Where a node's directory is inside it (and inside its container runs). */
const NODE_MOUNT = '/mnt/batch';

/** Where the host's node binary is inside a node. */
const NODE_BINARY = '/opt/lapis/node';

export interface ContainerAgentHostOptions {
  engine: ContainerEngine;
  /** Each node's ids mapped to a range of host ids of its own (Podman): root in a node is not root on the host. */
  userNamespaces: boolean;
  /** The image the node's pool runs on; throws when the pool's imageReference maps to none. */
  imageOf(placement: NodePlacement): string;
  /** The node's pool's vmSize: its CPUs and memory become the container's limits (vm-sizes.ts). */
  vmSizeOf(placement: NodePlacement): string | undefined;
  /** Names this server's nodes (the nodes directory's hash): containers a crashed server left are found by it. */
  tag: string;
  /** --azure-hostnames: the names siblings resolve, as a process node's container runs do. */
  azureNames?: AzureNamesForTasks;
}

/** Host ids a node's user namespace maps its ids 0 to 399999 onto: a range of its own per node, above any host user's. */
const MAPPED_IDS = 400_000;
const FIRST_MAPPED_ID = 1_000_000;

/** Where a node's agent finds the CA certificate it trusts besides its image's (AgentHost.start). */
const TRUSTED_CA_PATH = '/etc/lapis/trusted-ca.pem';

export class ContainerAgentHost implements AgentHost {
  readonly recreateOnReimage = true;
  readonly nodeMakesAccounts = true;
  /** Each node's slot in the mapped id ranges. */
  private readonly idRanges = new Map<string, number>();
  /** Each started node's directory on this host: what its container runs mount, whatever a request says. */
  private readonly directories = new Map<string, string>();
  readonly siblings: SiblingContainers;

  constructor(private readonly options: ContainerAgentHostOptions) {
    this.siblings = new SiblingContainers({
      engine: options.engine,
      idLimit: MAPPED_IDS,
      privateDirectory: this.siblingsPrivateDirectory,
      azureNames: options.azureNames,
      nodeOf: (placement) => {
        const directory = this.directories.get(placement.nodeId);
        return directory ? { directory, roots: this.nodeRoots(directory), flags: this.siblingFlags(placement, directory) } : undefined;
      },
    });
  }

  /**
   * What puts a node's container run beside it: labelled as the node's (so
   * the node's end, or the next server, removes it), the node's hostname and
   * network (the host's), the node's directory where the node has it, the
   * node's ids and its size's limits.
   */
  private siblingFlags(placement: NodePlacement, nodeDirectory: string): string[] {
    const { tag } = this.options;
    return [
      `--label=lapis.nodes=${tag}`,
      `--label=${siblingLabel(tag, placement.nodeId)}`,
      // The node's name: a task sees the same hostname in a container as on its node.
      `--hostname=${hostnameOf(placement.nodeId)}`,
      '--network=host',
      `--volume=${nodeDirectory}:${NODE_MOUNT}`,
      ...this.idMap(placement.nodeId),
      ...vmSizeLimits(this.options.vmSizeOf(placement)),
    ];
  }

  private idMap(nodeId: string): string[] {
    if (!this.options.userNamespaces) return [];
    const root = this.mappedRoot(nodeId);
    return [`--uidmap=0:${root}:${MAPPED_IDS}`, `--gidmap=0:${root}:${MAPPED_IDS}`];
  }

  /** The host id the node's root maps to; a node keeps its range while it lives. */
  private mappedRoot(nodeId: string): number {
    let slot = this.idRanges.get(nodeId);
    if (slot === undefined) {
      const taken = new Set(this.idRanges.values());
      for (slot = 0; taken.has(slot); slot++);
      this.idRanges.set(nodeId, slot);
    }
    return FIRST_MAPPED_ID + slot * MAPPED_IDS;
  }

  /**
   * The node's container is removed (its agent has ended, but the engine may
   * still be tearing it down), then its directory, through directory
   * descriptors: the node's root owned it and may have left links there.
   */
  async release(placement: NodePlacement, nodeDirectory: string): Promise<void> {
    const { engine, tag } = this.options;
    await execFileAsync(engine.command, [...engine.globalFlags, 'rm', '-f', containerName(tag, placement.nodeId)], { env: { PATH: SYSTEM_PATH } }).catch(() => undefined);
    await this.removeSiblings(placement.nodeId);
    this.directories.delete(placement.nodeId);
    await removePath(path.dirname(nodeDirectory), [path.basename(nodeDirectory)], true).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    this.idRanges.delete(placement.nodeId);
  }

  /** The node's ids on the host, and its directory given to its root (chown -R does not follow links). */
  private userNamespace(placement: NodePlacement, nodeDirectory: string): string[] {
    if (!this.options.userNamespaces) return [];
    const root = this.mappedRoot(placement.nodeId);
    execFileSync('chown', ['-R', '-P', `${root}:${root}`, nodeDirectory], { env: { PATH: SYSTEM_PATH } });
    return this.idMap(placement.nodeId);
  }

  /** Every container run beside the node, whoever started it (a server before this one too). */
  async removeSiblings(nodeId: string): Promise<void> {
    await this.siblings.endNode(nodeId);
    const { engine, tag } = this.options;
    const options = { env: { PATH: SYSTEM_PATH } };
    const ids = await execFileAsync(engine.command, [...engine.globalFlags, 'ps', '-aq', '--filter', `label=${siblingLabel(tag, nodeId)}`], options).then(
      ({ stdout }) => stdout.split('\n').filter(Boolean),
      () => [],
    );
    if (ids.length > 0) await execFileAsync(engine.command, [...engine.globalFlags, 'rm', '-f', ...ids], options).catch(() => undefined);
  }

  nodeRoots(nodeDirectory: string): { host: string; agent: string } {
    return { host: path.join(nodeDirectory, 'tasks'), agent: path.posix.join(NODE_MOUNT, 'tasks') };
  }

  start(placement: NodePlacement, program: string, nodeDirectory: string, trustedCaFile?: string) {
    const image = this.options.imageOf(placement);
    this.directories.set(placement.nodeId, nodeDirectory);
    // The mount point: runs as the node's users pass through it to the node root, which its agent closes to the node's group.
    mkdirSync(nodeDirectory, { recursive: true, mode: 0o711 });
    chmodSync(nodeDirectory, 0o711);
    const { engine, tag } = this.options;
    const args = [
      ...engine.globalFlags,
      'run',
      '-i',
      '--rm',
      '--init',
      '--name',
      containerName(tag, placement.nodeId),
      '--label',
      `lapis.nodes=${tag}`,
      '--hostname',
      hostnameOf(placement.nodeId),
      '--network',
      'host',
      ...this.userNamespace(placement, nodeDirectory),
      ...vmSizeLimits(this.options.vmSizeOf(placement)),
      ...engine.runFlags,
      '-v',
      `${nodeDirectory}:${NODE_MOUNT}`,
      '-v',
      `${process.execPath}:${NODE_BINARY}:ro`,
      ...codeMounts(program).flatMap((directory) => ['-v', `${directory}:${directory}:ro`]),
      ...(trustedCaFile ? ['-v', `${trustedCaFile}:${TRUSTED_CA_PATH}:ro`, '--env', `NODE_EXTRA_CA_CERTS=${TRUSTED_CA_PATH}`] : []),
      image,
      NODE_BINARY,
      program,
      '--node',
      placement.nodeId,
    ];
    // Only a PATH for the engine: nothing of the server's environment reaches a node.
    return spawn(engine.command, args, { stdio: ['pipe', 'ignore', 'pipe'], detached: true, env: { PATH: SYSTEM_PATH } });
  }

  /** This server's directory of root-only files for its nodes' container runs (one server per nodes directory, so one per tag). */
  private get siblingsPrivateDirectory(): string {
    return path.join(os.tmpdir(), `lapis-siblings-${this.options.tag}`);
  }

  /** Removes containers of this server's nodes (their container runs too) that a previous server left running, and its container runs' env files. */
  removeLeftovers(): void {
    removePrivateDirectory(this.siblingsPrivateDirectory);
    const { engine, tag } = this.options;
    try {
      const ids = execFileSync(engine.command, [...engine.globalFlags, 'ps', '-aq', '--filter', `label=lapis.nodes=${tag}`], { encoding: 'utf8', env: { PATH: SYSTEM_PATH } })
        .split('\n')
        .filter(Boolean);
      if (ids.length > 0) execFileSync(engine.command, [...engine.globalFlags, 'rm', '-f', ...ids], { stdio: 'ignore', env: { PATH: SYSTEM_PATH } });
    } catch {
      // No engine, or nothing to remove: the first node's start says what is wrong.
    }
  }
}

/** The label of a node's container runs. */
function siblingLabel(tag: string, nodeId: string): string {
  return `lapis.sibling-of=${containerName(tag, nodeId)}`;
}

export function containerName(tag: string, nodeId: string): string {
  return `lapis-${tag}-${nodeId}`;
}

/** A node's hostname: its id where it fits a host name (63 characters), else its first 50 and a hash. */
export function hostnameOf(nodeId: string): string {
  const name = nodeId.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return name.length <= 63 ? name : `${name.slice(0, 50)}-${createHash('sha256').update(nodeId).digest('hex').slice(0, 12)}`;
}

/** The directories the agent's code is read from: its packages, and its compiled tree when it is not bundled there. */
function codeMounts(program: string): string[] {
  const modules = path.dirname(path.dirname(createRequire(import.meta.url).resolve('ws/package.json')));
  return program.startsWith(`${modules}${path.sep}`) ? [modules] : [modules, path.dirname(path.dirname(program))];
}
