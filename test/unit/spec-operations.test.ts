// The spec's operations (src/api/batch/spec-operations.ts, generated from the
// 2022-10-01.16.0 spec) against what Lapis registers and what
// docs/compatibility.md says: every spec operation has a route with the
// spec's method and path, or is listed as not implemented; every operation
// has one row in the compatibility table with the same method and path.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { allOperations, NOT_IMPLEMENTED } from '../../src/api/batch/app.js';
import type { Operation } from '../../src/api/batch/operation.js';
import type { BatchServices } from '../../src/api/batch/services.js';
import { SPEC_API_VERSION, SPEC_OPERATIONS } from '../../src/api/batch/spec-operations.js';
import { isAtLeast } from '../../src/api/batch/versions.js';

// Building the operation list only captures the services; no handler runs here.
const registered: Operation[] = allOperations({} as BatchServices);

/** A route path in the spec's form: `:poolId` → `{poolId}`, the file path `*` → `{filePath}`, the certificate key → the spec's key segment. */
function specPathOf(operation: Operation): string {
  return operation.path
    .replace(/:key\([^/]*\)/, '(thumbprintAlgorithm={thumbprintAlgorithm},thumbprint={thumbprint})')
    .replace(/:(\w+)/g, '{$1}')
    .replace(/\/\*$/, '/{filePath}');
}

interface DocRow {
  operation: string;
  http: string;
  status: string;
}

function compatibilityRows(): DocRow[] {
  const text = readFileSync(new URL('../../docs/compatibility.md', import.meta.url), 'utf8');
  const section = text.slice(text.indexOf('## Operations'), text.indexOf('\n## ', text.indexOf('## Operations') + 1));
  const rows: DocRow[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| Operation') || line.startsWith('|---')) continue;
    const [operation = '', http = '', status = ''] = line.slice(1).split(' | ').map((cell) => cell.trim());
    rows.push({ operation, http, status });
  }
  return rows;
}

describe('spec operations', () => {
  test('the generated list is the spec of 2022-10-01.16.0, without duplicates', () => {
    const ids = SPEC_OPERATIONS.map((operation) => operation.operationId);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.length >= 70, `only ${ids.length} operations`);
  });

  test('every spec operation has a route with its method and path, or is listed as not implemented', () => {
    const byId = new Map(registered.map((operation) => [operation.id as string, operation]));
    for (const spec of SPEC_OPERATIONS) {
      const route = byId.get(spec.operationId);
      if (NOT_IMPLEMENTED.includes(spec.operationId)) {
        assert.equal(route, undefined, `${spec.operationId} is listed as not implemented but has a route`);
        continue;
      }
      assert.ok(route, `${spec.operationId} has no route and is not listed in NOT_IMPLEMENTED`);
      assert.equal(route.method, spec.method, `${spec.operationId}: method`);
      assert.equal(specPathOf(route), spec.path, `${spec.operationId}: path`);
      assert.ok(!route.since || isAtLeast(SPEC_API_VERSION, route.since), `${spec.operationId} is in the primary version and cannot start later`);
      assert.ok(!route.until || !isAtLeast(SPEC_API_VERSION, route.until), `${spec.operationId} is in the primary version and cannot end before it`);
    }
  });

  test('every route is a spec operation or one of another version (with its since or until)', () => {
    const specIds = new Set<string>(SPEC_OPERATIONS.map((operation) => operation.operationId));
    const seen = new Set<string>();
    for (const operation of registered) {
      assert.ok(!seen.has(operation.id), `${operation.id} is registered twice`);
      seen.add(operation.id);
      if (specIds.has(operation.id)) continue;
      const later = operation.since !== undefined && isAtLeast(operation.since, SPEC_API_VERSION);
      const removed = operation.until !== undefined && isAtLeast(SPEC_API_VERSION, operation.until);
      assert.ok(later || removed, `${operation.id} is not in the 2022-10-01.16.0 spec, so it needs a later since or an earlier until`);
    }
  });

  test('docs/compatibility.md has one row per operation, with the same method and path', () => {
    const rows = compatibilityRows();
    const expected = [
      ...SPEC_OPERATIONS.map((spec) => ({ id: spec.operationId as string, http: `\`${spec.method} ${spec.path}\`` })),
      ...registered
        .filter((operation) => !SPEC_OPERATIONS.some((spec) => spec.operationId === operation.id))
        .map((operation) => ({ id: operation.id as string, http: `\`${operation.method} ${specPathOf(operation)}\`` })),
    ];
    for (const { id, http } of expected) {
      const matching = rows.filter((row) => row.operation === id);
      assert.equal(matching.length, 1, `docs/compatibility.md: ${matching.length} rows for ${id}`);
      const [row] = matching as [DocRow];
      assert.equal(row.http, http, `docs/compatibility.md: ${id}`);
      const notImplemented = (NOT_IMPLEMENTED as readonly string[]).includes(id);
      assert.equal(row.status === 'not yet', notImplemented, `docs/compatibility.md: ${id} is "${row.status}"`);
    }
    const known = new Set(expected.map((entry) => entry.id));
    for (const row of rows) {
      if (row.operation.startsWith('(')) continue; // behaviours such as (preemption), not operations
      assert.ok(known.has(row.operation), `docs/compatibility.md names ${row.operation}, which is no operation`);
    }
  });
});
