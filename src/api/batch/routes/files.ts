// File operations, for a task's directory and for a whole node: File_Get*
// (with ocp-range), File_GetProperties*, File_List* (recursive, startswith
// filter), File_Delete*, each FromTask and FromComputeNode.

import { batchErrors } from '../../../core/errors.js';
import { matchesFilter } from '../../../core/odata/filter-eval.js';
import { parseFilterParameter } from '../../../core/odata/filter-parser.js';
import type { ByteRange, NodeFileEntry } from '../../../core/ports.js';
import { operation, pathParams, type BatchReply, type BatchRequest, type Operation } from '../operation.js';
import type { BatchServices } from '../services.js';
import { listReply, parseBooleanQuery, parseMaxResults } from '../wire.js';
import type { FileScope } from '../../../services/file-service.js';
import { poolUrl } from './pools.js';
import { taskUrl } from './task-wire.js';

/** `bytes=start-end` or `bytes=start-`; Batch reads one range. */
export function parseRange(header: string | undefined): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!match) throw batchErrors.invalidHeaderValue('ocp-range', header);
  const start = Number(match[1]);
  const end = match[2] ? Number(match[2]) : undefined;
  if (end !== undefined && end < start) throw batchErrors.invalidHeaderValue('ocp-range', header);
  return { start, end };
}

function fileHeaders(entry: NodeFileEntry, url: string): Record<string, string | number> {
  return {
    'ocp-creation-time': entry.creationTime.toUTCString(),
    'ocp-batch-file-isdirectory': String(entry.isDirectory),
    'ocp-batch-file-url': encodeURI(url),
    'ocp-batch-file-mode': entry.fileMode,
    'Last-Modified': entry.lastModified.toUTCString(),
    'Content-Type': 'application/octet-stream',
  };
}

function checkModified(request: BatchRequest, entry: NodeFileEntry): void {
  const seconds = Math.floor(entry.lastModified.getTime() / 1000);
  const { ifModifiedSince, ifUnmodifiedSince } = request.conditions;
  if (ifModifiedSince && seconds <= Math.floor(ifModifiedSince.getTime() / 1000)) throw batchErrors.notModified();
  if (ifUnmodifiedSince && seconds > Math.floor(ifUnmodifiedSince.getTime() / 1000)) throw batchErrors.conditionNotMet();
}

interface FileRoutes {
  /** The operation id suffix. */
  suffix: 'FromTask' | 'FromComputeNode';
  base: string;
  scope(request: BatchRequest): FileScope;
  url(request: BatchRequest): string;
}

const TASK_FILES: FileRoutes = {
  suffix: 'FromTask',
  base: '/jobs/:jobId/tasks/:taskId/files',
  scope: (request) => ({ kind: 'task', ...pathParams(request, 'jobId', 'taskId') }),
  url: (request) => {
    const { jobId, taskId } = pathParams(request, 'jobId', 'taskId');
    return `${taskUrl(request, jobId, taskId)}/files`;
  },
};

const NODE_FILES: FileRoutes = {
  suffix: 'FromComputeNode',
  base: '/pools/:poolId/nodes/:nodeId/files',
  scope: (request) => ({ kind: 'node', ...pathParams(request, 'poolId', 'nodeId') }),
  url: (request) => {
    const { poolId, nodeId } = pathParams(request, 'poolId', 'nodeId');
    return `${poolUrl(request, poolId)}/nodes/${nodeId}/files`;
  },
};

export function fileOperations(services: BatchServices): Operation[] {
  return [TASK_FILES, NODE_FILES].flatMap((routes) => fileOperationsFor(services, routes));
}

function fileOperationsFor(services: BatchServices, routes: FileRoutes): Operation[] {
  const path = (request: BatchRequest) => pathParams(request, '*')['*'];
  return [
    operation({
      id: `File_Get${routes.suffix}`,
      method: 'GET',
      path: `${routes.base}/*`,
      async handler(request): Promise<BatchReply> {
        const range = parseRange(request.header('ocp-range'));
        const file = await services.files.read(request.caller, routes.scope(request), path(request), range);
        checkModified(request, file.entry);
        return {
          status: 200,
          stream: file.content,
          headers: { ...fileHeaders(file.entry, `${routes.url(request)}/${path(request)}`), 'Content-Length': file.length },
        };
      },
    }),
    operation({
      id: `File_GetProperties${routes.suffix}`,
      method: 'HEAD',
      path: `${routes.base}/*`,
      async handler(request): Promise<BatchReply> {
        const entry = await services.files.properties(request.caller, routes.scope(request), path(request));
        checkModified(request, entry);
        return {
          status: 200,
          headers: { ...fileHeaders(entry, `${routes.url(request)}/${path(request)}`), 'Content-Length': entry.contentLength },
        };
      },
    }),
    operation({
      id: `File_List${routes.suffix}`,
      method: 'GET',
      path: routes.base,
      async handler(request): Promise<BatchReply> {
        const recursive = parseBooleanQuery(request, 'recursive');
        const maxResults = parseMaxResults(request);
        const filter = parseFilterParameter(request.query['$filter'], 'files');
        const entries = (await services.files.list(request.caller, routes.scope(request), recursive)).filter(
          (entry) => !filter || matchesFilter(filter, entry),
        );
        const offset = Number(request.query['$skiptoken'] ?? 0) || 0;
        const page = entries.slice(offset, offset + maxResults);
        const next = offset + maxResults < entries.length ? String(offset + maxResults) : undefined;
        const base = routes.url(request);
        return listReply(
          request,
          'files',
          page.map((entry) => ({
            name: entry.name,
            url: encodeURI(`${base}/${entry.name}`),
            isDirectory: entry.isDirectory,
            properties: {
              creationTime: entry.creationTime.toISOString(),
              lastModified: entry.lastModified.toISOString(),
              contentLength: entry.contentLength,
              contentType: 'application/octet-stream',
              fileMode: entry.fileMode,
            },
          })),
          next,
        );
      },
    }),
    operation({
      id: `File_Delete${routes.suffix}`,
      method: 'DELETE',
      path: `${routes.base}/*`,
      async handler(request): Promise<BatchReply> {
        await services.files.delete(request.caller, routes.scope(request), path(request), parseBooleanQuery(request, 'recursive'));
        return { status: 200 };
      },
    }),
  ];
}
