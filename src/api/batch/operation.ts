// The shape of one Batch REST operation, keyed by the spec's operationId
// (Pool_Add, Task_AddCollection…). Route files export lists of these; app.ts
// registers them and owns everything common (auth, versions, errors, headers).

import type { Conditions } from '../../core/conditions.js';
import type { Caller } from '../../services/context.js';
import type { ApiVersion } from './versions.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface BatchRequest {
  caller: Caller;
  apiVersion: ApiVersion;
  /** Scheme, host and port the client used, for absolute URLs in answers. */
  baseUrl: string;
  requestId: string;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  header(name: string): string | undefined;
  conditions: Conditions;
  /** The parsed JSON body; undefined when the request had none. */
  body: unknown;
  /** The raw path, for building paging links. */
  path: string;
}

export interface BatchReply {
  status: number;
  body?: unknown;
  /** A JSON body already serialized, sent as it is (instead of body). */
  json?: string;
  /** A file's bytes, streamed as they are read. */
  stream?: AsyncIterable<Uint8Array>;
  headers?: Record<string, string | number>;
}

export interface Operation {
  id: string;
  method: HttpMethod;
  path: string;
  /** The first API version that has the operation; earlier versions answer InvalidUri, as for any unknown path. */
  since?: ApiVersion;
  /** The first API version that no longer has it. */
  until?: ApiVersion;
  handler(request: BatchRequest): BatchReply | Promise<BatchReply>;
}
