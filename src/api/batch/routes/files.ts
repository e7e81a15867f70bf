// Task file operations: File_GetFromTask (with ocp-range), File_GetPropertiesFromTask,
// File_ListFromTask (recursive), File_DeleteFromTask.

import { batchErrors } from '../../../core/errors.js';
import type { ByteRange, NodeFileEntry } from '../../../core/ports.js';
import type { BatchReply, BatchRequest, Operation } from '../operation.js';
import type { BatchServices } from '../services.js';
import { listReply, parseMaxResults } from '../wire.js';
import { taskUrl } from './tasks.js';

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

function parseBoolean(request: BatchRequest, name: string): boolean {
  const value = request.query[name];
  if (value === undefined) return false;
  if (value !== 'true' && value !== 'false') throw batchErrors.invalidQueryParameterValue(name, value, 'The value must be true or false.');
  return value === 'true';
}

function fileHeaders(request: BatchRequest, entry: NodeFileEntry, url: string): Record<string, string | number> {
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

export function fileOperations(services: BatchServices): Operation[] {
  const ids = (request: BatchRequest) => ({
    jobId: request.params.jobId as string,
    taskId: request.params.taskId as string,
    path: request.params['*'] as string,
  });
  return [
    {
      id: 'File_GetFromTask',
      method: 'GET',
      path: '/jobs/:jobId/tasks/:taskId/files/*',
      async handler(request): Promise<BatchReply> {
        const { jobId, taskId, path } = ids(request);
        const range = parseRange(request.header('ocp-range'));
        const file = await services.files.read(request.caller, jobId, taskId, path, range);
        checkModified(request, file.entry);
        return {
          status: 200,
          stream: file.content,
          headers: { ...fileHeaders(request, file.entry, `${taskUrl(request, jobId, taskId)}/files/${path}`), 'Content-Length': file.length },
        };
      },
    },
    {
      id: 'File_GetPropertiesFromTask',
      method: 'HEAD',
      path: '/jobs/:jobId/tasks/:taskId/files/*',
      async handler(request): Promise<BatchReply> {
        const { jobId, taskId, path } = ids(request);
        const entry = await services.files.properties(request.caller, jobId, taskId, path);
        checkModified(request, entry);
        return {
          status: 200,
          headers: { ...fileHeaders(request, entry, `${taskUrl(request, jobId, taskId)}/files/${path}`), 'Content-Length': entry.contentLength },
        };
      },
    },
    {
      id: 'File_ListFromTask',
      method: 'GET',
      path: '/jobs/:jobId/tasks/:taskId/files',
      async handler(request): Promise<BatchReply> {
        const { jobId, taskId } = ids(request);
        const recursive = parseBoolean(request, 'recursive');
        const maxResults = parseMaxResults(request);
        const filter = request.query['$filter'];
        const prefix = filter === undefined ? undefined : /^\s*startswith\(\s*name\s*,\s*'((?:[^']|'')*)'\s*\)\s*$/.exec(filter)?.[1]?.replace(/''/g, "'");
        if (filter !== undefined && prefix === undefined) {
          throw batchErrors.invalidQueryParameterValue('$filter', filter, "File lists filter only with startswith(name,'prefix').");
        }
        const entries = (await services.files.list(request.caller, jobId, taskId, recursive)).filter(
          (entry) => prefix === undefined || entry.name.startsWith(prefix),
        );
        const offset = Number(request.query['$skiptoken'] ?? 0) || 0;
        const page = entries.slice(offset, offset + maxResults);
        const next = offset + maxResults < entries.length ? String(offset + maxResults) : undefined;
        const base = taskUrl(request, jobId, taskId);
        return listReply(
          request,
          'files',
          page.map((entry) => ({
            name: entry.name,
            url: encodeURI(`${base}/files/${entry.name}`),
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
    },
    {
      id: 'File_DeleteFromTask',
      method: 'DELETE',
      path: '/jobs/:jobId/tasks/:taskId/files/*',
      async handler(request): Promise<BatchReply> {
        const { jobId, taskId, path } = ids(request);
        await services.files.delete(request.caller, jobId, taskId, path, parseBoolean(request, 'recursive'));
        return { status: 200 };
      },
    },
  ];
}
