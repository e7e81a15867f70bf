// The container node provider: the local provider's agents, each run as the
// main process of its node's own container (container-agent-host.ts).
// Inside a node, runs use the container's own root and users: the host's OS
// accounts and control groups are not used there.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ImageReference } from '../../core/pool.js';
import type { NodeEvents, NodePlacement } from '../../core/ports.js';
import { LocalNodeProvider, type LocalNodeProviderOptions } from '../local/local-node-provider.js';
import { ContainerAgentHost, type ContainerEngine } from './container-agent-host.js';
import { imageKey, nodeImageTable } from './node-images.js';
import { SYSTEM_PATH } from '../../core/system-path.js';


export interface ContainerNodeOptions {
  /** The pool's imageReference, read when its node starts. */
  imageReferenceOf(placement: NodePlacement): ImageReference | undefined;
  /** The pool's vmSize, read when its node starts. */
  vmSizeOf(placement: NodePlacement): string | undefined;
  nodeImages: readonly string[];
  engine?: 'podman' | 'docker';
  /** Says at start which engine runs the nodes, and why, or what is wrong with it. */
  log(level: 'info' | 'warn', message: string): void;
}

export function containerNodeProvider(events: NodeEvents, options: LocalNodeProviderOptions, container: ContainerNodeOptions): LocalNodeProvider {
  const images = nodeImageTable(container.nodeImages);
  const engine = containerEngine(container.engine);
  reportEngine(engine, container);
  const host = new ContainerAgentHost({
    engine,
    // Docker maps user namespaces only daemon-wide (userns-remap): there a node's root is the host's.
    userNamespaces: engine.command === 'podman',
    vmSizeOf: (placement) => container.vmSizeOf(placement),
    tag: createHash('sha256').update(path.resolve(options.nodesDirectory)).digest('hex').slice(0, 6),
    imageOf(placement) {
      const reference = container.imageReferenceOf(placement);
      const image = reference ? images.get(imageKey(reference)) : undefined;
      if (!image) {
        throw new Error(
          `Pool ${placement.poolId}: no container image for imageReference ${reference ? imageKey(reference) : '(none)'}; map one with --node-image PUBLISHER/OFFER/SKU=IMAGE.`,
        );
      }
      return image;
    },
  });
  host.removeLeftovers();
  return new LocalNodeProvider(events, { ...options, userAccounts: undefined, cgroupRoot: undefined }, host);
}

/** The engine and the flags its `run` needs here: Podman with runc (crun fails on hybrid cgroups) and ulimits within the host's hard limits. */
function containerEngine(choice: 'podman' | 'docker' | undefined): ContainerEngine {
  const command = choice ?? (installed('podman') ? 'podman' : 'docker');
  const ulimits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
  // --replace: a node started again after its agent was killed may find its old container not yet gone.
  if (command === 'podman') return { command, runFlags: [...(installed('runc') ? ['--runtime', 'runc'] : []), ...ulimits, '--replace'] };
  return { command, runFlags: ulimits };
}

function installed(command: string): boolean {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore', env: { PATH: SYSTEM_PATH } });
    return true;
  } catch {
    return false;
  }
}

/** Asks the engine for its version (which needs it working, not only installed) and says what runs the nodes. */
function reportEngine(engine: ContainerEngine, container: ContainerNodeOptions): void {
  const why = container.engine ? 'as --container-engine says' : engine.command === 'podman' ? 'found first; it gives each node a user namespace' : 'Podman is not installed';
  try {
    const version = execFileSync(engine.command, ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', env: { PATH: SYSTEM_PATH }, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    container.log('info', `container nodes: ${engine.command} ${version} (${why}); run flags: ${engine.runFlags.join(' ') || 'none'}`);
  } catch (error) {
    container.log('warn', `container nodes: ${engine.command} does not answer (${(error as Error).message.split('\n')[0]}); nodes will fail to start until it does`);
  }
}
