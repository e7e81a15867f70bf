// Compute node operations: ComputeNode_List, ComputeNode_Get,
// ComputeNode_DisableScheduling, ComputeNode_EnableScheduling,
// ComputeNode_Reboot, ComputeNode_Reimage, ComputeNode_AddUser,
// ComputeNode_UpdateUser, ComputeNode_DeleteUser, ComputeNode_GetRemoteLoginSettings,
// ComputeNodeExtension_List, ComputeNodeExtension_Get, ComputeNode_UploadBatchServiceLogs,
// ComputeNode_GetRemoteDesktop (until 2024-07-01.20.0), and from 2024-07-01.20.0
// ComputeNode_Start and ComputeNode_Deallocate.

import { batchErrors } from '../../../core/errors.js';
import type { ComputeNode, TaskInformation } from '../../../core/node.js';
import { nodeExtension, nodeExtensions } from '../../../core/node-extension.js';
import { operation, type BatchRequest, type Operation } from '../operation.js';
import {
  nodeAddUserBody,
  nodeDeallocateBody,
  nodeDisableSchedulingBody,
  nodeRebootBody,
  nodeReimageBody,
  nodeUpdateUserBody,
  nodeUploadLogsBody,
} from '../schemas/node.js';
import { nodeDefaults } from '../read-defaults/pool-settings.js';
import { parseBody } from '../schemas/validate.js';
import type { BatchServices } from '../services.js';
import { listReply, metadataUrl, pageQuery, parseSelect, project } from '../wire.js';
import { poolUrl } from './pools.js';
import { taskUrl } from './task-wire.js';

export function nodeToWire(request: BatchRequest, poolId: string, node: ComputeNode): object {
  const wire = Object.assign({ id: node.id, url: nodeUrl(request, poolId, node.id) }, node);
  if (node.recentTasks) wire.recentTasks = node.recentTasks.map((entry) => recentTaskToWire(request, entry));
  return nodeDefaults(wire);
}

/** A recentTasks entry names its task by URL first, as Batch's TaskInformation does. */
function recentTaskToWire(request: BatchRequest, entry: TaskInformation): TaskInformation & { taskUrl?: string } {
  const { jobId, taskId } = entry;
  return jobId !== undefined && taskId !== undefined ? Object.assign({ taskUrl: taskUrl(request, jobId, taskId) }, entry) : entry;
}

function nodeUrl(request: BatchRequest, poolId: string, nodeId: string): string {
  return `${poolUrl(request, poolId)}/nodes/${nodeId}`;
}

/** The pool and node a `/pools/:poolId/nodes/:nodeId` route names. */
function nodeParams(request: BatchRequest<{ poolId: string; nodeId: string }>): { poolId: string; nodeId: string } {
  return { poolId: request.params.poolId, nodeId: request.params.nodeId };
}

/** A node action's answer: Batch names the node in DataServiceId. */
function nodeActionReply(request: BatchRequest, status: 200 | 202, poolId: string, nodeId: string) {
  return { status, headers: { DataServiceId: nodeUrl(request, poolId, nodeId) } };
}

export function nodeOperations(services: BatchServices): Operation[] {
  return [
    operation({
      id: 'ComputeNode_List',
      method: 'GET',
      path: '/pools/:poolId/nodes',
      handler(request) {
        const poolId = request.params.poolId;
        const page = services.nodes.list(request.caller, poolId, pageQuery(request, 'nodes'));
        return listReply(request, 'nodes', page.items.map((node) => nodeToWire(request, poolId, node)), page.continuation);
      },
    }),
    operation({
      id: 'ComputeNode_Get',
      method: 'GET',
      path: '/pools/:poolId/nodes/:nodeId',
      handler(request) {
        const poolId = request.params.poolId;
        const node = services.nodes.get(request.caller, poolId, request.params.nodeId);
        return {
          status: 200,
          body: { 'odata.metadata': metadataUrl(request, 'nodes/@Element'), ...project(nodeToWire(request, poolId, node), parseSelect(request)) },
        };
      },
    }),
    operation({
      id: 'ComputeNode_DisableScheduling',
      method: 'POST',
      path: '/pools/:poolId/nodes/:nodeId/disablescheduling',
      handler(request) {
        const body = request.body === undefined ? {} : parseBody(nodeDisableSchedulingBody, request.body);
        const { poolId, nodeId } = nodeParams(request);
        services.nodes.disableScheduling(request.caller, poolId, nodeId, body.nodeDisableSchedulingOption);
        return nodeActionReply(request, 200, poolId, nodeId);
      },
    }),
    operation({
      id: 'ComputeNode_EnableScheduling',
      method: 'POST',
      path: '/pools/:poolId/nodes/:nodeId/enablescheduling',
      handler(request) {
        const { poolId, nodeId } = nodeParams(request);
        services.nodes.enableScheduling(request.caller, poolId, nodeId);
        return nodeActionReply(request, 200, poolId, nodeId);
      },
    }),
    operation({
      id: 'ComputeNode_Reboot',
      method: 'POST',
      path: '/pools/:poolId/nodes/:nodeId/reboot',
      handler(request) {
        const body = request.body === undefined ? {} : parseBody(nodeRebootBody, request.body);
        const { poolId, nodeId } = nodeParams(request);
        services.nodes.restart(request.caller, poolId, nodeId, 'rebooting', body.nodeRebootOption);
        return nodeActionReply(request, 202, poolId, nodeId);
      },
    }),
    operation({
      id: 'ComputeNode_Reimage',
      method: 'POST',
      path: '/pools/:poolId/nodes/:nodeId/reimage',
      handler(request) {
        const body = request.body === undefined ? {} : parseBody(nodeReimageBody, request.body);
        const { poolId, nodeId } = nodeParams(request);
        services.nodes.restart(request.caller, poolId, nodeId, 'reimaging', body.nodeReimageOption);
        return nodeActionReply(request, 202, poolId, nodeId);
      },
    }),
    operation({
      id: 'ComputeNode_AddUser',
      method: 'POST',
      path: '/pools/:poolId/nodes/:nodeId/users',
      handler(request) {
        const spec = parseBody(nodeAddUserBody, request.body);
        const { poolId, nodeId } = nodeParams(request);
        services.nodes.addUser(request.caller, poolId, nodeId, spec);
        const url = `${nodeUrl(request, poolId, nodeId)}/users/${spec.name}`;
        return { status: 201, headers: { DataServiceId: url, Location: url } };
      },
    }),
    operation({
      id: 'ComputeNode_UpdateUser',
      method: 'PUT',
      path: '/pools/:poolId/nodes/:nodeId/users/:userName',
      handler(request) {
        const spec = parseBody(nodeUpdateUserBody, request.body);
        const { poolId, nodeId } = nodeParams(request);
        services.nodes.updateUser(request.caller, poolId, nodeId, request.params.userName, spec);
        return { status: 200, headers: { DataServiceId: `${nodeUrl(request, poolId, nodeId)}/users/${request.params.userName}` } };
      },
    }),
    operation({
      id: 'ComputeNode_DeleteUser',
      method: 'DELETE',
      path: '/pools/:poolId/nodes/:nodeId/users/:userName',
      handler(request) {
        services.nodes.deleteUser(request.caller, request.params.poolId, request.params.nodeId, request.params.userName);
        return { status: 200 };
      },
    }),
    operation({
      id: 'ComputeNode_GetRemoteLoginSettings',
      method: 'GET',
      path: '/pools/:poolId/nodes/:nodeId/remoteloginsettings',
      handler(request) {
        const node = services.nodes.get(request.caller, request.params.poolId, request.params.nodeId);
        // A local node is this machine: remote login is its own SSH server.
        return {
          status: 200,
          body: { 'odata.metadata': metadataUrl(request, '@Element'), remoteLoginIPAddress: node.ipAddress, remoteLoginPort: 22 },
        };
      },
    }),
    operation({
      id: 'ComputeNodeExtension_List',
      method: 'GET',
      path: '/pools/:poolId/nodes/:nodeId/extensions',
      since: '2021-06-01.14.0',
      handler(request) {
        const { poolId, nodeId } = nodeParams(request);
        services.nodes.get(request.caller, poolId, nodeId);
        pageQuery(request, undefined);
        return listReply(request, 'extensions', nodeExtensions(services.pools.get(request.caller, poolId)), undefined);
      },
    }),
    operation({
      id: 'ComputeNodeExtension_Get',
      method: 'GET',
      path: '/pools/:poolId/nodes/:nodeId/extensions/:extensionName',
      since: '2021-06-01.14.0',
      handler(request) {
        const { poolId, nodeId } = nodeParams(request);
        services.nodes.get(request.caller, poolId, nodeId);
        const extension = nodeExtension(services.pools.get(request.caller, poolId), request.params.extensionName);
        if (!extension) throw batchErrors.extensionNotFound();
        return { status: 200, body: { 'odata.metadata': metadataUrl(request, 'extensions/@Element'), ...project(extension, parseSelect(request)) } };
      },
    }),
    operation({
      id: 'ComputeNode_Deallocate',
      method: 'POST',
      path: '/pools/:poolId/nodes/:nodeId/deallocate',
      since: '2024-07-01.20.0',
      handler(request) {
        const body = request.body === undefined ? {} : parseBody(nodeDeallocateBody, request.body);
        const { poolId, nodeId } = nodeParams(request);
        services.nodes.restart(request.caller, poolId, nodeId, 'deallocating', body.nodeDeallocateOption);
        return nodeActionReply(request, 202, poolId, nodeId);
      },
    }),
    operation({
      id: 'ComputeNode_Start',
      method: 'POST',
      path: '/pools/:poolId/nodes/:nodeId/start',
      since: '2024-07-01.20.0',
      handler(request) {
        const { poolId, nodeId } = nodeParams(request);
        services.nodes.start(request.caller, poolId, nodeId);
        return nodeActionReply(request, 202, poolId, nodeId);
      },
    }),
    operation({
      id: 'ComputeNode_UploadBatchServiceLogs',
      method: 'POST',
      path: '/pools/:poolId/nodes/:nodeId/uploadbatchservicelogs',
      async handler(request) {
        const body = parseBody(nodeUploadLogsBody, request.body);
        const result = await services.nodes.uploadServiceLogs(request.caller, request.params.poolId, request.params.nodeId, body);
        return { status: 200, body: { 'odata.metadata': metadataUrl(request, '@Element'), ...result } };
      },
    }),
    operation({
      id: 'ComputeNode_GetRemoteDesktop',
      method: 'GET',
      path: '/pools/:poolId/nodes/:nodeId/rdp',
      until: '2024-07-01.20.0',
      handler(request) {
        const poolId = request.params.poolId;
        const node = services.nodes.get(request.caller, poolId, request.params.nodeId);
        const pool = services.pools.get(request.caller, poolId);
        if (!pool.cloudServiceConfiguration) throw batchErrors.remoteDesktopNotSupported();
        const file = `full address:s:${node.ipAddress}:3389\nprompt for credentials:i:1\n`;
        return { status: 200, stream: (async function* () { yield Buffer.from(file); })(), headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': Buffer.byteLength(file) } };
      },
    }),
  ];
}
