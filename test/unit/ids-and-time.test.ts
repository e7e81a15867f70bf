import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBatchError } from '../../src/core/errors.js';
import { assertValidId, idKey, isValidId } from '../../src/core/ids.js';
import { ETagSequence } from '../../src/core/etag.js';
import { formatDuration, formatTimestamp, normalizeDuration, parseDuration, UNLIMITED_DURATION } from '../../src/core/time.js';

test('ids: 1 to 64 letters, digits, hyphens and underscores', () => {
  for (const id of ['a', 'Task0', 'my-job_1', 'x'.repeat(64)]) assert.equal(isValidId(id), true, id);
  for (const id of ['', 'x'.repeat(65), 'has space', 'dot.ted', '../up', 'ünïcode', 'semi;colon']) assert.equal(isValidId(id), false, id);
});

test('an invalid id is InvalidPropertyValue naming the property', () => {
  assert.throws(
    () => assertValidId('bad id', 'id'),
    (error: unknown) => isBatchError(error) && error.code === 'InvalidPropertyValue' && error.values[0]?.value === 'id',
  );
});

test('ids are unique without regard to case', () => {
  assert.equal(idKey('MyPool'), idKey('mypool'));
});

test('ISO-8601 durations parse and format as Batch writes them', () => {
  assert.equal(parseDuration('PT15M'), 15 * 60_000);
  assert.equal(parseDuration('P7D'), 7 * 86_400_000);
  assert.equal(parseDuration('P1DT2H3M4.5S'), 86_400_000 + 2 * 3_600_000 + 3 * 60_000 + 4500);
  assert.equal(parseDuration('15 minutes'), undefined);
  assert.equal(parseDuration('P'), undefined);
  assert.equal(parseDuration('PT'), undefined);
  assert.equal(formatDuration(15 * 60_000), 'PT15M');
  assert.equal(formatDuration(7 * 86_400_000), 'P7D');
  assert.equal(formatDuration(0), 'PT0S');
  assert.equal(normalizeDuration(UNLIMITED_DURATION), UNLIMITED_DURATION);
  assert.equal(normalizeDuration('P20000D'), 'P20000D');
});

test('timestamps carry seven fractional digits', () => {
  assert.equal(formatTimestamp(new Date('2024-01-02T03:04:05.678Z')), '2024-01-02T03:04:05.6780000Z');
});

test('ETags are 0x + upper-case hex and strictly increase even within one tick', () => {
  const etags = new ETagSequence();
  const now = new Date('2024-01-01T00:00:00Z');
  const first = etags.next(now);
  const second = etags.next(now);
  assert.match(first, /^0x[0-9A-F]{15}$/);
  assert.notEqual(first, second);
  assert.ok(BigInt(second) > BigInt(first));
});
