import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { BatchRequest } from '../../src/api/batch/operation.js';
import { tasksJsonToWire, taskToWire } from '../../src/api/batch/routes/task-wire.js';
import type { Task } from '../../src/core/task.js';

const request = { baseUrl: 'http://127.0.0.1:10100' } as BatchRequest;

/** What Task_List sent before it spliced stored JSON: parse, taskToWire, serialize. */
const parsed = (json: string) => JSON.stringify(taskToWire(request, 'job-1', JSON.parse(json) as Task));
const taskJsonToWire = (_request: BatchRequest, jobId: string, json: string) => tasksJsonToWire(request, jobId, [json])[0];

test('a stored task becomes the same wire JSON whether spliced or parsed', () => {
  const docs = [
    { id: 't1', commandLine: '/bin/true', state: 'active', constraints: { retentionTime: 'P7D' } },
    { id: 't2', displayName: 'second "one" \\ é', commandLine: 'echo "url": x', state: 'active' },
    { id: 't3', commandLine: 'x', displayName: 'not second', state: 'active' },
    { id: 't4', commandLine: 'x', state: 'completed', dependencyAction: 'satisfy', slotsHeld: 2, filesCleanedUp: true },
    { id: 't5', commandLine: 'x', state: 'running', instances: [{ id: 0 }] },
    { commandLine: 'x', id: 't6', state: 'active' },
    { id: 't7', displayName: null, state: 'active' },
    { id: 't8', state: 'active', exitConditions: { default: { dependencyAction: 'block' } }, resourceFiles: [{ httpUrl: 'http://a/b', displayName: 'n' }] },
    { id: 't9' },
  ];
  for (const doc of docs) {
    const json = JSON.stringify(doc);
    assert.equal(taskJsonToWire(request, 'job-1', json), parsed(json), json);
  }
  // One page mixing both paths, in either order.
  const page = docs.map((doc) => JSON.stringify(doc));
  assert.deepEqual(tasksJsonToWire(request, 'job-1', page), page.map(parsed));
  assert.deepEqual(tasksJsonToWire(request, 'job-1', [...page].reverse()), [...page].reverse().map(parsed));
  // The common case takes the splice: the URL lands after id (and displayName), the rest unchanged.
  assert.equal(
    taskJsonToWire(request, 'job-1', '{"id":"t1","displayName":"d","commandLine":"c"}'),
    '{"id":"t1","displayName":"d","url":"http://127.0.0.1:10100/jobs/job-1/tasks/t1","commandLine":"c"}',
  );
});

test('property: splicing never changes the answer', () => {
  const key = fc.constantFrom('id', 'displayName', 'commandLine', 'url', 'slotsHeld', 'instances', 'dependencyAction', 'filesCleanedUp', 'state', 'x');
  const text = fc.oneof(fc.string(), fc.constantFrom('"url":', '\\', '"', '"displayName":"a"', 'é\u{1F600}'));
  const value = fc.oneof(text, fc.integer(), fc.constant(null), fc.dictionary(key, text, { maxKeys: 3 }));
  const doc = fc
    .tuple(text, fc.option(text, { nil: undefined }), fc.dictionary(key, value, { maxKeys: 6 }))
    .map(([id, displayName, rest]) => JSON.stringify(displayName === undefined ? { id, ...rest } : { id, displayName, ...rest }));
  fc.assert(
    fc.property(doc, (json) => {
      assert.equal(taskJsonToWire(request, 'job-1', json), parsed(json));
    }),
    { numRuns: 2000 },
  );
});
