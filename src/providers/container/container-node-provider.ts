// The container node provider: the local provider's agents, each run as the
// main process of its node's own container (container-agent-host.ts).
// Inside a node, runs use the container's own root and users: the host's OS
// accounts and control groups are not used there.

import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ImageReference } from '../../core/pool.js';
import type { NodeEvents, NodePlacement } from '../../core/ports.js';
import { LocalNodeProvider, type LocalNodeProviderOptions } from '../local/local-node-provider.js';
import type { ContainerEngine } from '../../core/container-settings.js';
import { ContainerAgentHost } from './container-agent-host.js';
import { containerEngine, engineVersion } from './engine.js';
import { imageKey, nodeImageTable } from './node-images.js';


export interface ContainerNodeOptions {
  /** The pool's imageReference, read when its node starts. */
  imageReferenceOf(placement: NodePlacement): ImageReference | undefined;
  /** The pool's vmSize, read when its node starts. */
  vmSizeOf(placement: NodePlacement): string | undefined;
  nodeImages: readonly string[];
  engine?: 'podman' | 'docker';
  dockerHost?: string;
  /** Says at start which engine runs the nodes, and why, or what is wrong with it. */
  log(level: 'info' | 'warn', message: string): void;
}

export function containerNodeProvider(events: NodeEvents, options: LocalNodeProviderOptions, container: ContainerNodeOptions): LocalNodeProvider {
  const images = nodeImageTable(container.nodeImages);
  const engine = containerEngine(container);
  reportEngine(engine, container);
  const host = new ContainerAgentHost({
    engine,
    // Docker maps user namespaces only daemon-wide (userns-remap): there a node's root is the host's.
    userNamespaces: engine.command === 'podman',
    vmSizeOf: (placement) => container.vmSizeOf(placement),
    azureNames: options.azureNames,
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

/** Asks the engine for its version (which needs it working, not only installed) and says what runs the nodes. */
function reportEngine(engine: ContainerEngine, container: ContainerNodeOptions): void {
  const why = container.engine ? 'as --container-engine says' : engine.command === 'podman' ? 'found first; it gives each node a user namespace' : 'Podman is not installed';
  try {
    const version = engineVersion(engine);
    container.log('info', `container nodes: ${engine.command} ${version} (${why}); run flags: ${engine.runFlags.join(' ') || 'none'}`);
  } catch (error) {
    container.log('warn', `container nodes: ${engine.command} does not answer (${(error as Error).message.split('\n')[0]}); nodes will fail to start until it does`);
  }
}
