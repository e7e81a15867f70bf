// Compute node operations: ComputeNode_List, ComputeNode_Get.

import type { ComputeNode } from '../../../core/node.js';
import type { BatchRequest, Operation } from '../operation.js';
import type { BatchServices } from '../services.js';
import { listReply, metadataUrl, pageQuery, parseSelect, project } from '../wire.js';
import { poolUrl } from './pools.js';

export function nodeToWire(request: BatchRequest, poolId: string, node: ComputeNode): object {
  const { id, ...rest } = node;
  return { id, url: `${poolUrl(request, poolId)}/nodes/${id}`, ...rest };
}

export function nodeOperations(services: BatchServices): Operation[] {
  return [
    {
      id: 'ComputeNode_List',
      method: 'GET',
      path: '/pools/:poolId/nodes',
      handler(request) {
        const poolId = request.params.poolId as string;
        const page = services.nodes.list(request.caller, poolId, pageQuery(request));
        return listReply(request, 'nodes', page.items.map((node) => nodeToWire(request, poolId, node)), page.continuation);
      },
    },
    {
      id: 'ComputeNode_Get',
      method: 'GET',
      path: '/pools/:poolId/nodes/:nodeId',
      handler(request) {
        const poolId = request.params.poolId as string;
        const node = services.nodes.get(request.caller, poolId, request.params.nodeId as string);
        return {
          status: 200,
          body: { 'odata.metadata': metadataUrl(request, 'nodes/@Element'), ...project(nodeToWire(request, poolId, node), parseSelect(request)) },
        };
      },
    },
  ];
}
