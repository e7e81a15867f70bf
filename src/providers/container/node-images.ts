// Which container image a pool's imageReference runs on (--node-image adds
// or overrides entries). Keys are PUBLISHER/OFFER/SKU, compared without
// case; a pool whose image is not listed cannot allocate container nodes.

import type { ImageReference } from '../../core/pool.js';

export const DEFAULT_NODE_IMAGES: Readonly<Record<string, string>> = {
  'canonical/0001-com-ubuntu-server-focal/20_04-lts': 'ubuntu:20.04',
  // Batch's container-ready Ubuntu 20.04: Nextflow's and Snakemake's pools name it.
  'microsoft-azure-batch/ubuntu-server-container/20-04-lts': 'ubuntu:20.04',
  'canonical/0001-com-ubuntu-server-jammy/22_04-lts': 'ubuntu:22.04',
  'canonical/ubuntu-24_04-lts/server': 'ubuntu:24.04',
  'debian/debian-11/11': 'debian:11',
  'debian/debian-12/12': 'debian:12',
};

export function imageKey(reference: Pick<ImageReference, 'publisher' | 'offer' | 'sku'>): string {
  return `${reference.publisher ?? ''}/${reference.offer ?? ''}/${reference.sku ?? ''}`.toLowerCase();
}

/** `PUBLISHER/OFFER/SKU=IMAGE` entries over the defaults. */
export function nodeImageTable(entries: readonly string[]): Map<string, string> {
  const table = new Map(Object.entries(DEFAULT_NODE_IMAGES));
  for (const entry of entries) {
    const separator = entry.indexOf('=');
    table.set(entry.slice(0, separator).toLowerCase(), entry.slice(separator + 1));
  }
  return table;
}
