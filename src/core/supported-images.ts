// The images a server's nodes run, as Account_ListSupportedImages answers
// them. Process nodes stand in for a fixed set (they run on the host, whatever
// a pool names); container nodes run what their image table maps. A server
// that can run container pools also lists Batch's container-ready image, the
// one Nextflow's Azure Batch executor looks up by default.

import type { ContainerTaskRuntime } from './container-settings.js';

export interface SupportedImage {
  nodeAgentSKUId: string;
  imageReference: { publisher: string; offer: string; sku: string; version: string };
  verificationType: 'verified' | 'unverified';
  batchSupportEndOfLife?: string;
  capabilities: string[];
  osType: 'linux';
}

const ubuntu = (sku: string, offer: string, agent: string, endOfLife: string): SupportedImage => ({
  nodeAgentSKUId: agent,
  imageReference: { publisher: 'canonical', offer, sku, version: 'latest' },
  verificationType: 'verified',
  batchSupportEndOfLife: endOfLife,
  capabilities: [],
  osType: 'linux',
});

const debian = (version: string): SupportedImage => ({
  nodeAgentSKUId: `batch.node.debian ${version}`,
  imageReference: { publisher: 'debian', offer: `debian-${version}`, sku: version, version: 'latest' },
  verificationType: 'verified',
  capabilities: [],
  osType: 'linux',
});

/** What a process node stands in for. */
export const PROCESS_NODE_IMAGES: readonly SupportedImage[] = [
  ubuntu('20_04-lts', '0001-com-ubuntu-server-focal', 'batch.node.ubuntu 20.04', '2025-04-23T00:00:00.0000000Z'),
  ubuntu('22_04-lts', '0001-com-ubuntu-server-jammy', 'batch.node.ubuntu 22.04', '2027-04-30T00:00:00.0000000Z'),
  ubuntu('server', 'ubuntu-24_04-lts', 'batch.node.ubuntu 24.04', '2029-04-30T00:00:00.0000000Z'),
  debian('12'),
];

/**
 * Batch's Ubuntu 20.04 with a container engine installed (Batch lists it
 * `DockerCompatible`, among others): Nextflow's default pool image
 * (publisher, offer, and nodeAgentSKUId `batch.node.ubuntu 20.04`), also
 * Snakemake's. Its capabilities are filled in by what this server's nodes run.
 */
export const CONTAINER_READY_IMAGE: SupportedImage = {
  nodeAgentSKUId: 'batch.node.ubuntu 20.04',
  imageReference: { publisher: 'microsoft-azure-batch', offer: 'ubuntu-server-container', sku: '20-04-lts', version: 'latest' },
  verificationType: 'verified',
  batchSupportEndOfLife: '2025-04-23T00:00:00.0000000Z',
  capabilities: [],
  osType: 'linux',
};

const KNOWN: readonly SupportedImage[] = [...PROCESS_NODE_IMAGES, debian('11'), CONTAINER_READY_IMAGE];

const keyOf = ({ imageReference: ref }: SupportedImage): string => `${ref.publisher}/${ref.offer}/${ref.sku}`.toLowerCase();

/**
 * The images listed, given how container pools' tasks run here (undefined:
 * container pools are refused): with container pools, Batch's container-ready
 * image is listed, `DockerCompatible` only where a real engine runs the
 * containers (not with `--containers host`, which ignores the images). No
 * GPU capability: Lapis's nodes promise no GPU driver.
 */
export function supportedImages(images: readonly SupportedImage[], containers: ContainerTaskRuntime | undefined): SupportedImage[] {
  if (!containers) return [...images];
  const capabilities = containers.kind === 'engine' ? ['DockerCompatible'] : [];
  const ready = { ...CONTAINER_READY_IMAGE, capabilities };
  const listed = images.map((image) => (keyOf(image) === keyOf(ready) ? ready : image));
  return listed.some((image) => image === ready) ? listed : [...listed, ready];
}

/**
 * Container nodes: one entry per PUBLISHER/OFFER/SKU their image table maps,
 * with Batch's node agent SKU where Batch has one for that image; an image
 * the operator added answers as unverified, under a generic Linux SKU.
 */
export function mappedImages(keys: Iterable<string>): SupportedImage[] {
  return [...keys].map((key) => {
    const known = KNOWN.find((image) => keyOf(image) === key.toLowerCase());
    if (known) return known;
    const [publisher = '', offer = '', sku = ''] = key.split('/');
    return { nodeAgentSKUId: 'batch.node.linux', imageReference: { publisher, offer, sku, version: 'latest' }, verificationType: 'unverified', capabilities: [], osType: 'linux' };
  });
}
