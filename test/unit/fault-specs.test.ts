// core/faults.ts: the catalogue of kinds and how a POST /lapis/faults body is
// read for each new kind: defaults filled, a bad field refused by name.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchError } from '../../src/core/errors.js';
import { FAULT_KINDS, FAULT_TYPES, parseFaultSpec } from '../../src/core/faults.js';

function refusedField(body: unknown): string | undefined {
  try {
    parseFaultSpec(body);
  } catch (error) {
    assert.ok(error instanceof BatchError, String(error));
    return error.values?.find((value) => value.key === 'PropertyName')?.value;
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

test('each kind is listed once, with a description', () => {
  assert.equal(new Set(FAULT_TYPES).size, FAULT_KINDS.length);
  for (const kind of FAULT_KINDS) assert.ok(kind.description.endsWith('.'), kind.type);
});

test("each kind's required fields are the ones a body is refused without, and a field it does not list is refused", () => {
  const valid: Record<string, unknown> = { poolId: 'p', nodeId: 'n', jobId: 'j', duration: 'PT1S', count: 1, failureInfo: { code: 'X' }, code: undefined, exitCode: 2 };
  for (const kind of FAULT_KINDS) {
    const body = Object.fromEntries([['type', kind.type], ...kind.fields.filter((field) => field !== 'failureInfo' || kind.type === 'taskFailure').map((field) => [field, valid[field]])]);
    assert.doesNotThrow(() => parseFaultSpec(body), kind.type);
    for (const field of kind.required) {
      const { [field]: _left, ...without } = body;
      assert.equal(refusedField(without), field, `${kind.type} without ${field}`);
    }
    assert.equal(refusedField({ ...body, notAField: 1 }), 'notAField', kind.type);
  }
});

test('the new kinds are read with their defaults', () => {
  assert.deepEqual(parseFaultSpec({ type: 'startTaskHang', poolId: 'p' }), { type: 'startTaskHang', poolId: 'p', count: 1 });
  assert.deepEqual(parseFaultSpec({ type: 'preemption', poolId: 'p' }), { type: 'preemption', poolId: 'p' });
  assert.deepEqual(parseFaultSpec({ type: 'preemption', poolId: 'p', nodeId: 'n', duration: 'PT1M' }), { type: 'preemption', poolId: 'p', nodeId: 'n', duration: 'PT1M', durationMs: 60_000 });
  assert.deepEqual(parseFaultSpec({ type: 'resourceFileFailure', jobId: 'j' }), { type: 'resourceFileFailure', jobId: 'j', count: 1, code: 'BlobNotFound' });
  assert.deepEqual(parseFaultSpec({ type: 'outputFileFailure', poolId: 'p', count: 2, code: 'FileUploadTimedOut' }), {
    type: 'outputFileFailure',
    poolId: 'p',
    count: 2,
    code: 'FileUploadTimedOut',
  });
});

test('a taskFailure with a code nodes produce gets its message; another code the generic one', () => {
  const known = parseFaultSpec({ type: 'taskFailure', failureInfo: { code: 'BlobAccessDenied' } });
  assert.equal(known.type === 'taskFailure' && known.failureInfo.message, 'Access for one of the specified Azure Blob(s) is denied');
  const other = parseFaultSpec({ type: 'taskFailure', failureInfo: { code: 'Whatever' } });
  assert.equal(other.type === 'taskFailure' && other.failureInfo.message, 'The task could not be started (injected).');
});

test('a bad field of a new kind is refused by name', () => {
  assert.equal(refusedField({ type: 'resourceFileFailure', code: 'FileUploadTimedOut' }), 'code');
  assert.equal(refusedField({ type: 'outputFileFailure', code: 'toString' }), 'code');
  assert.equal(refusedField({ type: 'startTaskHang', poolId: 'p', count: 1.5 }), 'count');
  assert.equal(refusedField({ type: 'preemption', poolId: 'p', duration: 'P1Y' }), 'duration');
  assert.equal(refusedField({ type: 'preemption', poolId: 'p', count: 1 }), 'count');
  assert.equal(refusedField({ type: 'startTaskHang' }), 'poolId');
});
