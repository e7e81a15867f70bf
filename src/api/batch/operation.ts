// The shape of one Batch REST operation, keyed by the spec's operationId
// (Pool_Add, Task_AddCollection…). Route files export lists of these; app.ts
// registers them and owns everything common (auth, versions, errors, headers).

import type { Conditions } from '../../core/conditions.js';
import { batchErrors } from '../../core/errors.js';
import type { Caller } from '../../services/context.js';
import type { SpecOperationId } from './spec-operations.js';
import type { ApiVersion } from './versions.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * The parameters a route path declares, typed from the path itself:
 * `/pools/:poolId/nodes/:nodeId` gives `{ poolId: string; nodeId: string }`,
 * a parameter with a pattern (`:key(^\\(.+\\)$)`) is named by what precedes
 * the pattern, and a trailing `*` is the `'*'` parameter.
 */
export type PathParams<Path extends string> = string extends Path ? Record<string, string> : Simplify<ParamsOf<Path>>;

type Simplify<T> = { [K in keyof T]: T[K] };
type ParamName<Segment extends string> = Segment extends `${infer Name}(${string}` ? Name : Segment;
type ParamsOf<Path extends string> = Path extends `${string}:${infer Rest}`
  ? Rest extends `${infer Segment}/${infer Tail}`
    ? { [K in ParamName<Segment>]: string } & ParamsOf<`/${Tail}`>
    : { [K in ParamName<Rest>]: string }
  : Path extends `${string}/*`
    ? { '*': string }
    : {};

export interface BatchRequest<Params = Record<string, string>> {
  caller: Caller;
  apiVersion: ApiVersion;
  /** Scheme, host and port the client used, for absolute URLs in answers. */
  baseUrl: string;
  requestId: string;
  /** The route's path parameters, as its path declares them. */
  params: Params;
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

/** The operations the spec list's version (spec-operations.ts) does not have: later versions' and removed ones. */
export type OtherVersionOperationId = 'ComputeNode_Start' | 'ComputeNode_Deallocate' | 'Account_ListNodeAgentSkus';

/** An operation's id: the spec's operationId, checked at compile time. */
export type OperationId = SpecOperationId | OtherVersionOperationId;

export interface Operation<Path extends string = string> {
  id: OperationId;
  method: HttpMethod;
  path: Path;
  /** The first API version that has the operation; earlier versions answer InvalidUri, as for any unknown path. */
  since?: ApiVersion;
  /** The first API version that no longer has it. */
  until?: ApiVersion;
  handler(request: BatchRequest<PathParams<Path>>): BatchReply | Promise<BatchReply>;
}

/**
 * One operation, its handler's `request.params` typed from its path, so a
 * route reads `request.params.poolId` as a string without a cast. The
 * router matched the path, so every parameter it declares is present.
 */
export function operation<const Path extends string>(definition: Operation<Path>): Operation {
  // The one place the path's parameters meet the router's untyped ones: find-my-way matched this path.
  return definition as unknown as Operation;
}

/**
 * Named parameters of a request whose path is not a literal (routes shared
 * by several paths, such as the file operations): each is read once, typed,
 * and a missing one is InvalidUri.
 */
export function pathParams<const Names extends readonly string[]>(request: BatchRequest, ...names: Names): { [K in Names[number]]: string } {
  const params: Record<string, string> = {};
  for (const name of names) {
    const value = request.params[name];
    if (value === undefined) throw batchErrors.invalidUri();
    params[name] = value;
  }
  return params as { [K in Names[number]]: string };
}
