// Bad input never hurts Lapis: random and mutated bodies for every create and
// update operation, and random query options for every list, always get a
// 2xx (when the input happens to be valid) or a Batch error with a 4xx status
// — never a 5xx, never a crash — and a refused request changes nothing.
// Sizes are small by default; LAPIS_FUZZ_RUNS sets the runs per property.

import fc from 'fast-check';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, poolSpec, uniqueId } from '../../src/testkit/builders.js';
import { signedRequest, type SignedResponse } from '../../src/testkit/signed-request.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

const RUNS = Number(process.env.LAPIS_FUZZ_RUNS ?? 60);
const VERSION = 'api-version=2022-10-01.16.0';

let server: TestServer;
const poolId = uniqueId('FuzzPool');
const jobId = uniqueId('FuzzJob');
let nodeId = '';

before(async () => {
  server = await startTestServer();
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, { id: 'done', commandLine: '/bin/true' });
  nodeId = (await server.batch.computeNode.list(poolId))[0]?.id ?? '';
});

after(async () => {
  await server?.stop();
});

/** A Batch answer: success, or a 4xx with Batch's error body. */
function assertWellFormed(response: SignedResponse, what: string): void {
  assert.ok(response.status < 500, `${what} answered ${response.status}: ${response.text}`);
  if (response.status >= 400 && response.status !== 404 && response.status !== 412) {
    assert.ok(typeof response.body.code === 'string' && response.body.code.length > 0, `${what}: no Batch error code in ${response.text}`);
    assert.ok(response.body.message?.value, `${what}: no message`);
  }
}

const anyJson = fc.jsonValue({ maxDepth: 6 });

/** The path of the resource a create names, when its body carries a usable id. */
function createdPath(target: Target, body: unknown): string | undefined {
  if (target.method !== 'POST' || (target.path !== '/pools' && target.path !== '/jobs')) return undefined;
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(id) ? `${target.path}/${id}` : undefined;
}

async function exists(path: string | undefined): Promise<boolean> {
  return path !== undefined && (await signedRequest(server, 'GET', path)).status === 200;
}

/** A valid body with one property replaced, removed or added at random. */
function mutated(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(valid);
  return fc.oneof(
    fc.record({ key: fc.constantFrom(...keys), value: anyJson }).map(({ key, value }) => ({ ...valid, [key]: value })),
    fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(valid).filter(([name]) => name !== key))),
    fc.record({ key: fc.string({ maxLength: 20 }), value: anyJson }).map(({ key, value }) => ({ ...valid, [key]: value })),
    fc.string({ maxLength: 2000 }).map((text) => ({ ...valid, id: text })),
    anyJson,
  );
}

interface Target {
  method: 'POST' | 'PUT' | 'PATCH';
  path: string;
  valid: Record<string, unknown>;
}

function targets(): Target[] {
  return [
    { method: 'POST', path: '/pools', valid: { ...poolSpec('fuzz-pool'), targetDedicatedNodes: 0 } },
    { method: 'PATCH', path: `/pools/${poolId}`, valid: { metadata: [{ name: 'a', value: 'b' }] } },
    { method: 'POST', path: `/pools/${poolId}/resize`, valid: { targetDedicatedNodes: 1 } },
    { method: 'POST', path: `/pools/${poolId}/updateproperties`, valid: { certificateReferences: [], applicationPackageReferences: [], metadata: [] } },
    { method: 'POST', path: `/pools/${poolId}/evaluateautoscale`, valid: { autoScaleFormula: '$TargetDedicatedNodes = 1;' } },
    { method: 'POST', path: '/jobs', valid: { id: 'fuzz-job', poolInfo: { poolId } } },
    { method: 'PATCH', path: `/jobs/${jobId}`, valid: { priority: 1 } },
    { method: 'PUT', path: `/jobs/${jobId}`, valid: { poolInfo: { poolId } } },
    { method: 'POST', path: `/jobs/${jobId}/disable`, valid: { disableTasks: 'wait' } },
    { method: 'POST', path: `/jobs/${jobId}/tasks`, valid: { id: 'fuzz-task', commandLine: '/bin/true' } },
    { method: 'POST', path: `/jobs/${jobId}/addtaskcollection`, valid: { value: [{ id: 'fuzz-task-2', commandLine: '/bin/true' }] } },
    { method: 'PUT', path: `/jobs/${jobId}/tasks/done`, valid: { constraints: { maxTaskRetryCount: 1 } } },
    { method: 'POST', path: '/jobschedules', valid: { id: 'fuzz-schedule', schedule: {}, jobSpecification: { poolInfo: { poolId } } } },
    { method: 'POST', path: `/pools/${poolId}/nodes/${nodeId}/users`, valid: { name: 'fuzzuser' } },
    { method: 'POST', path: `/pools/${poolId}/nodes/${nodeId}/disablescheduling`, valid: { nodeDisableSchedulingOption: 'taskcompletion' } },
  ];
}

describe('random and mutated request bodies', () => {
  test('every create and update operation answers 2xx or a Batch 4xx, never 5xx', async () => {
    for (const target of targets()) {
      await fc.assert(
        fc.asyncProperty(mutated(target.valid), async (body) => {
          const resource = createdPath(target, body);
          const existed = await exists(resource);
          const response = await signedRequest(server, target.method, target.path, { body: JSON.stringify(body) });
          assertWellFormed(response, `${target.method} ${target.path} ${JSON.stringify(body).slice(0, 200)}`);
          if (response.status >= 400 && !existed) assert.equal(await exists(resource), false, `${resource} stored by a refused request`);
        }),
        { numRuns: RUNS },
      );
    }
  });

  test('bodies that are not JSON, or deeply nested, are refused cleanly', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    for (const body of ['', '{', 'null', '[]', '"text"', deep, '{"id":"\u0000"}', `{"id":"${'x'.repeat(100_000)}"}`]) {
      const response = await signedRequest(server, 'POST', '/jobs', { body });
      assert.ok(response.status >= 400 && response.status < 500, `${body.slice(0, 30)} answered ${response.status}: ${response.text}`);
      assertWellFormed(response, `POST /jobs ${body.slice(0, 30)}`);
    }
    const wrongType = await signedRequest(server, 'POST', '/jobs', { body: '{"id":"x"}', headers: { 'Content-Type': 'text/plain' } });
    assert.ok(wrongType.status >= 400 && wrongType.status < 500, `text/plain answered ${wrongType.status}`);
  });

});

describe('random query options', () => {
  const lists = () => ['/pools', '/jobs', `/jobs/${jobId}/tasks`, `/pools/${poolId}/nodes`, '/jobschedules', '/nodecounts', '/supportedimages', `/jobs/${jobId}/tasks/done/files`];
  const option = fc.oneof(
    fc.string({ maxLength: 300 }).map((text) => `$filter=${encodeURIComponent(text)}`),
    fc.string({ maxLength: 100 }).map((text) => `$select=${encodeURIComponent(text)}`),
    fc.oneof(fc.integer(), fc.string({ maxLength: 12 })).map((value) => `maxresults=${encodeURIComponent(String(value))}`),
    fc.string({ maxLength: 100 }).map((text) => `$skiptoken=${encodeURIComponent(text)}`),
    fc.string({ maxLength: 30 }).map((text) => `recursive=${encodeURIComponent(text)}`),
  );

  test('every list answers 200 or a Batch 4xx to any $filter, $select, maxresults and $skiptoken', async () => {
    for (const path of lists()) {
      await fc.assert(
        fc.asyncProperty(fc.array(option, { maxLength: 3 }), async (options) => {
          const response = await signedRequest(server, 'GET', path, { query: [VERSION, ...options].join('&') });
          assertWellFormed(response, `GET ${path}?${options.join('&')}`);
        }),
        { numRuns: RUNS },
      );
    }
  });

  test('any ocp-range on a file answers 200, 416 or a Batch 400', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 40 }), fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `bytes=${a}-${b}`)), async (range) => {
        const response = await signedRequest(server, 'GET', `/jobs/${jobId}/tasks/done/files/stdout.txt`, { headers: { 'ocp-range': range } });
        assertWellFormed(response, `ocp-range ${JSON.stringify(range)}`);
      }),
      { numRuns: RUNS },
    );
  });
});
