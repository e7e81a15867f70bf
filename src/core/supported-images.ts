// The images a server's nodes run, as Account_ListSupportedImages answers
// them. Process nodes stand in for a fixed set (they run on the host, whatever
// a pool names); container nodes run what their image table maps.

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

const KNOWN: readonly SupportedImage[] = [...PROCESS_NODE_IMAGES, debian('11')];

/**
 * Container nodes: one entry per PUBLISHER/OFFER/SKU their image table maps,
 * with Batch's node agent SKU where Batch has one for that image; an image
 * the operator added answers as unverified, under a generic Linux SKU.
 */
export function mappedImages(keys: Iterable<string>): SupportedImage[] {
  return [...keys].map((key) => {
    const known = KNOWN.find(({ imageReference: ref }) => `${ref.publisher}/${ref.offer}/${ref.sku}`.toLowerCase() === key.toLowerCase());
    if (known) return known;
    const [publisher = '', offer = '', sku = ''] = key.split('/');
    return { nodeAgentSKUId: 'batch.node.linux', imageReference: { publisher, offer, sku, version: 'latest' }, verificationType: 'unverified', capabilities: [], osType: 'linux' };
  });
}
