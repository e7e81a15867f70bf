import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { BatchRequest } from '../../src/api/batch/operation.js';
import { tasksJsonToWire, taskToWire } from '../../src/api/batch/routes/task-wire.js';
import { createJob } from '../../src/core/job.js';
import { createTask, type Task, type TaskSpec } from '../../src/core/task.js';

const request = { baseUrl: 'http://127.0.0.1:10100' } as BatchRequest;

/** What Task_List sent before it spliced stored JSON: parse, taskToWire, serialize. */
const parsed = (json: string) => JSON.stringify(taskToWire(request, 'job-1', JSON.parse(json) as Task));
const taskJsonToWire = (_request: BatchRequest, jobId: string, json: string) => tasksJsonToWire(request, jobId, [json])[0];

test('a stored task becomes the same wire JSON whether spliced or parsed', () => {
  const docs = [
    { id: 't1', commandLine: '/bin/true', state: 'active', constraints: { retentionTime: 'P7D' } },
    { id: 't2', displayName: 'second "one" \\ é', commandLine: 'echo "url": x', state: 'active' },
    { id: 't4', displayName: 'd', commandLine: 'x', state: 'completed', executionInfo: { result: 'success' } },
    { commandLine: 'x', id: 't6', state: 'active' },
    { id: 't8', state: 'active', exitConditions: { default: { dependencyAction: 'block' } }, resourceFiles: [{ httpUrl: 'http://a/b', displayName: 'n', url: 'u' }] },
    { id: 't9' },
    { id: 't10', displayName: 'only' },
  ];
  for (const doc of docs) {
    const json = JSON.stringify(doc);
    assert.equal(taskJsonToWire(request, 'job-1', json), parsed(json), json);
  }
  // One page mixing both paths, in either order.
  const page = docs.map((doc) => JSON.stringify(doc));
  assert.deepEqual(tasksJsonToWire(request, 'job-1', page), page.map(parsed));
  assert.deepEqual(tasksJsonToWire(request, 'job-1', [...page].reverse()), [...page].reverse().map(parsed));
  // The splice: the URL lands after id (and displayName), the rest unchanged.
  assert.equal(
    taskJsonToWire(request, 'job-1', '{"id":"t1","displayName":"d","commandLine":"c"}'),
    '{"id":"t1","displayName":"d","url":"http://127.0.0.1:10100/jobs/job-1/tasks/t1","commandLine":"c"}',
  );
});

test('a new task is stored as the splice expects: id and displayName first, no url of its own', () => {
  const job = createJob({ id: 'job', poolInfo: { poolId: 'pool' } }, new Date(), '0x1');
  const specs = [
    { commandLine: 'c', displayName: 'd', url: 'http://elsewhere', id: 'a' },
    { commandLine: 'c', id: 'b', resourceFiles: [{ httpUrl: 'http://a/b', filePath: 'f' }] },
  ] as TaskSpec[];
  for (const spec of specs) {
    const json = JSON.stringify(createTask(spec, job, new Date(), '0x2'));
    const keys = Object.keys(JSON.parse(json) as object);
    assert.deepEqual(keys.slice(0, spec.displayName ? 2 : 1), spec.displayName ? ['id', 'displayName'] : ['id'], json);
    assert.ok(!keys.includes('url'), json);
    assert.equal(taskJsonToWire(request, 'job', json), JSON.stringify(taskToWire(request, 'job', JSON.parse(json) as Task)));
  }
});

test('property: splicing never changes the answer of a stored document', () => {
  const key = fc.constantFrom('id', 'displayName', 'commandLine', 'url', 'slotsHeld', 'instances', 'state', 'x');
  const topKey = fc.constantFrom('commandLine', 'slotsHeld', 'instances', 'state', 'x');
  const text = fc.oneof(fc.string(), fc.constantFrom('"url":', '\\', '"', '"displayName":"a"', 'é\u{1F600}'));
  const value = fc.oneof(text, fc.integer(), fc.constant(null), fc.dictionary(key, text, { maxKeys: 3 }));
  // As createTask stores them: id, then displayName when there is one, and no url at the top.
  const doc = fc
    .tuple(text, fc.option(text, { nil: undefined }), fc.dictionary(topKey, value, { maxKeys: 6 }))
    .map(([id, displayName, rest]) => JSON.stringify(displayName === undefined ? { id, ...rest } : { id, displayName, ...rest }));
  fc.assert(
    fc.property(doc, (json) => {
      assert.equal(taskJsonToWire(request, 'job-1', json), parsed(json));
    }),
    { numRuns: 2000 },
  );
});
