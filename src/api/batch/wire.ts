// Building Batch's answers: odata.metadata, absolute resource URLs, ETag and
// Last-Modified headers, $select projections and paged lists with an
// absolute odata.nextLink.

import type { Versioned } from '../../core/common.js';
import { batchErrors } from '../../core/errors.js';
import { parseFilterParameter } from '../../core/odata/filter-parser.js';
import type { FilterListKind } from '../../core/odata/filter-properties.js';
import type { PageQuery } from '../../core/ports.js';
import type { BatchReply, BatchRequest } from './operation.js';

export const MAX_RESULTS = 1000;

/** A request body as JSON (undefined when empty); bad JSON is InvalidRequestBody. */
export function parseJsonBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw batchErrors.invalidRequestBody(`The body is not valid JSON: ${(error as Error).message}`);
  }
}

export function metadataUrl(request: BatchRequest, fragment: string): string {
  return `${request.baseUrl}/$metadata#${fragment}`;
}

export function versionHeaders(resource: Versioned, url?: string): Record<string, string> {
  const headers: Record<string, string> = {
    ETag: resource.eTag,
    'Last-Modified': new Date(resource.lastModified).toUTCString(),
  };
  if (url) headers.DataServiceId = url;
  return headers;
}

/** The top-level properties named in $select, or undefined for all. */
export function parseSelect(request: BatchRequest): Set<string> | undefined {
  const select = request.query['$select'];
  if (select === undefined) return undefined;
  const names = select.split(',').map((name) => name.trim());
  if (names.some((name) => !/^[A-Za-z][A-Za-z0-9]*(\/[A-Za-z][A-Za-z0-9]*)*$/.test(name))) {
    throw batchErrors.invalidQueryParameterValue('$select', select, 'The $select clause must be a comma-separated list of property names.');
  }
  return new Set(names.map((name) => name.split('/')[0] as string));
}

export function project<T extends object>(value: T, select: Set<string> | undefined): Partial<T> {
  if (!select) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => select.has(key))) as Partial<T>;
}

export function entityReply(request: BatchRequest, fragment: string, resource: Versioned, wire: object): BatchReply {
  return {
    status: 200,
    body: { 'odata.metadata': metadataUrl(request, `${fragment}/@Element`), ...project(wire, parseSelect(request)) },
    headers: versionHeaders(resource),
  };
}

/** The properties `$expand` names: Batch expands `stats` and `metadata` (metadata is always returned here). */
export function parseExpand(request: BatchRequest): Set<string> {
  const text = request.query['$expand'];
  if (text === undefined) return new Set();
  const names = text.split(',').map((name) => name.trim().toLowerCase());
  if (names.some((name) => name !== 'stats' && name !== 'metadata')) {
    throw batchErrors.invalidQueryParameterValue('$expand', text, 'Only stats and metadata can be expanded.');
  }
  return new Set(names);
}

/** A `true` / `false` query flag such as `recursive` or `force`; absent is false. */
export function parseBooleanQuery(request: BatchRequest, name: string): boolean {
  const value = request.query[name];
  if (value === undefined) return false;
  if (value !== 'true' && value !== 'false') throw batchErrors.invalidQueryParameterValue(name, value, 'The value must be true or false.');
  return value === 'true';
}

export function parseMaxResults(request: BatchRequest, limit = MAX_RESULTS): number {
  const text = request.query['maxresults'];
  if (text === undefined) return limit;
  if (!/^-?\d+$/.test(text)) throw batchErrors.invalidQueryParameterValue('maxresults', text, 'The value must be an integer.');
  const value = Number(text);
  if (value < 1 || value > limit) {
    throw batchErrors.outOfRangeQueryParameterValue('maxresults', text, `The value must be between 1 and ${limit}.`);
  }
  return value;
}

/**
 * A list's paging and `$filter`, checked against the properties Batch lets
 * that list filter on; `kind` undefined for lists Batch does not filter.
 */
export function pageQuery(request: BatchRequest, kind: FilterListKind | undefined, limit = MAX_RESULTS): PageQuery {
  const text = request.query['$filter'];
  if (kind === undefined && text !== undefined) {
    throw batchErrors.invalidQueryParameterValue('$filter', text, 'This list does not take a $filter.');
  }
  const query: PageQuery = { maxResults: parseMaxResults(request, limit), continuation: request.query['$skiptoken'] };
  const filter = kind ? parseFilterParameter(text, kind) : undefined;
  if (filter) query.filter = filter;
  return query;
}

/** A paged list; the next link repeats the query and adds the opaque $skiptoken. */
export function listReply(request: BatchRequest, fragment: string, items: object[], continuation: string | undefined): BatchReply {
  const select = parseSelect(request);
  const body: Record<string, unknown> = {
    'odata.metadata': metadataUrl(request, fragment),
    value: items.map((item) => project(item, select)),
  };
  if (continuation) body['odata.nextLink'] = nextLink(request, continuation);
  return { status: 200, body };
}

/** listReply for items already serialized as JSON text: the same bytes, without parsing and serializing each item again. */
export function listJsonReply(request: BatchRequest, fragment: string, itemsJson: string[], continuation: string | undefined): BatchReply {
  const metadata = JSON.stringify(metadataUrl(request, fragment));
  const next = continuation ? `,"odata.nextLink":${JSON.stringify(nextLink(request, continuation))}` : '';
  return { status: 200, json: `{"odata.metadata":${metadata},"value":[${itemsJson.join(',')}]${next}}` };
}

function nextLink(request: BatchRequest, continuation: string): string {
  const next = new URL(`${request.baseUrl}${request.path}`);
  for (const [name, value] of Object.entries(request.query)) {
    if (value !== undefined && name !== '$skiptoken') next.searchParams.set(name, value);
  }
  next.searchParams.set('$skiptoken', continuation);
  return next.toString();
}

export function createdReply(resource: Versioned, url: string): BatchReply {
  return { status: 201, headers: { ...versionHeaders(resource, url), Location: url } };
}

export function changedReply(status: number, resource: Versioned, url: string): BatchReply {
  return { status, headers: versionHeaders(resource, url) };
}
