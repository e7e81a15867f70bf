// HTTP conditional requests over a Batch resource's eTag and lastModified.
// A failed condition on a write is 412 ConditionNotMet; on a read,
// If-None-Match / If-Modified-Since answer 304 and the others 412.

import type { Versioned } from './common.js';
import { batchErrors } from './errors.js';

export interface Conditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: Date;
  ifUnmodifiedSince?: Date;
}

function etagMatches(header: string, eTag: string): boolean {
  return header
    .split(',')
    .map((part) => part.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'))
    .some((candidate) => candidate === '*' || candidate === eTag);
}

/** Last-Modified has one-second resolution on the wire; compare at that resolution. */
function seconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

export function checkConditions(resource: Versioned, conditions: Conditions | undefined, mode: 'read' | 'write'): void {
  if (!conditions) return;
  const modified = seconds(resource.lastModified);
  if (conditions.ifMatch !== undefined && !etagMatches(conditions.ifMatch, resource.eTag)) throw batchErrors.conditionNotMet();
  if (conditions.ifUnmodifiedSince && modified > Math.floor(conditions.ifUnmodifiedSince.getTime() / 1000)) {
    throw batchErrors.conditionNotMet();
  }
  const notModified = mode === 'read' ? batchErrors.notModified : batchErrors.conditionNotMet;
  if (conditions.ifNoneMatch !== undefined && etagMatches(conditions.ifNoneMatch, resource.eTag)) throw notModified();
  if (conditions.ifModifiedSince && modified <= Math.floor(conditions.ifModifiedSince.getTime() / 1000)) throw notModified();
}
