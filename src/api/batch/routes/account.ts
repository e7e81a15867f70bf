// Account operations: Account_ListSupportedImages — the images this server's
// nodes run (core/supported-images.ts), each with its node agent SKU — and Account_ListPoolNodeCounts;
// before 2019-06-01.9.0, Account_ListNodeAgentSkus: the same images grouped
// by node agent SKU.

import { operation, type Operation } from '../operation.js';
import type { BatchServices } from '../services.js';
import { matchesFilter } from '../../../core/odata/filter-eval.js';
import type { SupportedImage } from '../../../core/supported-images.js';
import { listReply, pageQuery } from '../wire.js';

/** Batch's own casing of the node states in NodeCounts. */
const NODE_COUNT_NAMES: Record<string, string> = {
  starttaskfailed: 'startTaskFailed',
  leavingpool: 'leavingPool',
  waitingforstarttask: 'waitingForStartTask',
  upgradingos: 'upgradingOS',
};

function nodeCountsToWire(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([state, n]) => [NODE_COUNT_NAMES[state] ?? state, n]));
}

/** Account_ListPoolNodeCounts pages at most 10 pools at a time. */
const NODE_COUNTS_PAGE = 10;

/** The node agent SKUs of the supported images, each with the images it runs on (Account_ListNodeAgentSkus). */
function nodeAgentSkus(images: readonly SupportedImage[]): { id: string; verifiedImageReferences: object[]; osType: string }[] {
  const skus = new Map<string, { id: string; verifiedImageReferences: object[]; osType: string }>();
  for (const image of images) {
    const sku = skus.get(image.nodeAgentSKUId) ?? { id: image.nodeAgentSKUId, verifiedImageReferences: [], osType: image.osType };
    sku.verifiedImageReferences.push(image.imageReference);
    skus.set(image.nodeAgentSKUId, sku);
  }
  return [...skus.values()];
}

/** One page of `items` after the offset the continuation names. */
function offsetPage<T>(items: T[], continuation: string | undefined, maxResults: number): { page: T[]; next: string | undefined } {
  const offset = Number(continuation ?? 0) || 0;
  const next = offset + maxResults < items.length ? String(offset + maxResults) : undefined;
  return { page: items.slice(offset, offset + maxResults), next };
}

export function accountOperations(services: BatchServices): Operation[] {
  return [
    operation({
      id: 'Account_ListPoolNodeCounts',
      method: 'GET',
      path: '/nodecounts',
      handler(request) {
        const page = services.nodes.nodeCounts(request.caller, pageQuery(request, 'poolNodeCounts', NODE_COUNTS_PAGE));
        const items = page.items.map((counts) => ({
          poolId: counts.poolId,
          dedicated: nodeCountsToWire(counts.dedicated),
          lowPriority: nodeCountsToWire(counts.lowPriority),
        }));
        return listReply(request, 'poolnodecounts', items, page.continuation);
      },
    }),
    operation({
      id: 'Account_ListSupportedImages',
      method: 'GET',
      path: '/supportedimages',
      since: '2019-06-01.9.0',
      handler(request) {
        const query = pageQuery(request, 'supportedImages');
        const images = services.supportedImages().filter((image) => !query.filter || matchesFilter(query.filter, image));
        const { page, next } = offsetPage(images, query.continuation, query.maxResults);
        return listReply(request, 'supportedimages', page, next);
      },
    }),
    operation({
      id: 'Account_ListNodeAgentSkus',
      method: 'GET',
      path: '/nodeagentskus',
      until: '2019-06-01.9.0',
      handler(request) {
        const query = pageQuery(request, 'nodeAgentSkus');
        const skus = nodeAgentSkus(services.supportedImages()).filter((sku) => !query.filter || matchesFilter(query.filter, sku));
        const { page, next } = offsetPage(skus, query.continuation, query.maxResults);
        return listReply(request, 'nodeagentskus', page, next);
      },
    }),
  ];
}
