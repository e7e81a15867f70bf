// Bad input never hurts Lapis: random and mutated bodies for every create and
// update operation, and random query options for every list, always get a
// 2xx (when the input happens to be valid) or a Batch error with a 4xx status
// — never a 5xx, never a crash — and a refused request changes nothing.
// Sizes are small by default; LAPIS_FUZZ_RUNS sets the runs per property.

import fc from 'fast-check';
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, poolSpec, uniqueId } from '../../src/testkit/builders.js';
import { JSON_REQUEST_TYPE, signedRequest, signedRequestHead, type BatchErrorBody, type SignedResponse } from '../../src/testkit/signed-request.js';
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

/** A server's answer read off a raw socket. */
interface RawAnswer {
  /** 0 when the server closed the connection without answering. */
  status: number;
  body: BatchErrorBody & Record<string, unknown>;
}

/** One request written by hand on its own connection, so a test decides when (and whether) each byte is sent. */
interface RawRequest {
  socket: net.Socket;
  body: Buffer;
  /** The first complete answer, or status 0 if the connection closed first. */
  answer: Promise<RawAnswer>;
  /** Resolves when the connection is closed, by either side. */
  closed: Promise<void>;
}

function readAnswer(socket: net.Socket): { answer: Promise<RawAnswer>; closed: Promise<void> } {
  let received = Buffer.alloc(0);
  let settle: (answer: RawAnswer) => void = () => undefined;
  const answer = new Promise<RawAnswer>((resolve) => {
    settle = resolve;
  });
  const tryParse = (): void => {
    const headEnd = received.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = received.subarray(0, headEnd).toString('latin1');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    const bodyBytes = received.subarray(headEnd + 4);
    if (bodyBytes.length < length) return;
    const text = bodyBytes.subarray(0, length).toString('utf8');
    let body: RawAnswer['body'] = {};
    try {
      body = text ? (JSON.parse(text) as RawAnswer['body']) : {};
    } catch {
      body = {};
    }
    settle({ status, body });
  };
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    tryParse();
  });
  // The server may reset a connection it gives up on; that is an answer too (the close).
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closed.then(() => settle({ status: 0, body: {} }));
  return { answer, closed };
}

/**
 * Connects and writes a signed request's head; the body is left to the test.
 * `signAs` overrides what is signed, for bodies that are not sent with a Content-Length.
 */
async function openRaw(
  target: TestServer,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH',
  path: string,
  body: string | undefined,
  options: { finishHead?: boolean; headers?: Record<string, string> } = {},
): Promise<RawRequest> {
  const signed = await signedRequestHead(target, method, path, { body, headers: options.headers });
  const url = new URL(target.lapis.batchUrl);
  const socket = net.connect(Number(url.port), url.hostname);
  const { answer, closed } = readAnswer(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const headerLines = Object.entries(signed.headers).map(([name, value]) => `${name}: ${value}\r\n`);
  const head = `${method} ${signed.target} HTTP/1.1\r\nHost: ${url.host}\r\n${headerLines.join('')}`;
  socket.write(options.finishHead === false ? head : `${head}\r\n`);
  return { socket, body: Buffer.from(body ?? '', 'utf8'), answer, closed };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Writes `bytes` in pieces of `size`, pausing between them. */
async function dribble(socket: net.Socket, bytes: Buffer, size: number, pauseMs: number): Promise<void> {
  for (let offset = 0; offset < bytes.length; offset += size) {
    socket.write(bytes.subarray(offset, offset + size));
    await pause(pauseMs);
  }
}

describe('bodies that are too large, arrive slowly, stall or are cut off', () => {
  // Short, so a stalled request is answered within seconds; far longer than the slow bodies below take.
  const REQUEST_TIMEOUT_MS = 3000;
  let slow: TestServer;
  const slowPool = uniqueId('SlowPool');
  const slowJob = uniqueId('SlowJob');

  before(async () => {
    slow = await startTestServer({ config: { requestTimeoutMs: REQUEST_TIMEOUT_MS } });
    // No nodes: nothing runs, so the stored state only changes if a request changes it.
    await addPoolAndWait(slow.batch, slowPool, { targetDedicatedNodes: 0 });
    await slow.batch.job.add({ id: slowJob, poolInfo: { poolId: slowPool } });
    await slow.batch.task.add(slowJob, { id: 'waiting', commandLine: '/bin/true' });
  });

  after(async () => {
    await slow?.stop();
  });

  /** Every pool, job, schedule and task of the job, with its eTag. */
  async function storedState(): Promise<string> {
    const pools = (await slow.batch.pool.list()).map((pool) => [pool.id, pool.eTag]);
    const jobs = (await slow.batch.job.list()).map((job) => [job.id, job.eTag]);
    const schedules = (await slow.batch.jobSchedule.list()).map((schedule) => [schedule.id, schedule.eTag]);
    const tasks = (await slow.batch.task.list(slowJob)).map((task) => [task.id, task.eTag]);
    return JSON.stringify({ pools, jobs, schedules, tasks });
  }

  function assertBatchAnswer(answer: RawAnswer, status: number, code: string, what: string): void {
    assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.code, code, what);
    assert.ok(answer.body.message?.value, `${what}: no message`);
  }

  test('a body over 1 MiB is RequestBodyTooLarge on every create and update operation, and changes nothing', async () => {
    const targets: { method: 'POST' | 'PUT' | 'PATCH'; path: string }[] = [
      { method: 'POST', path: '/pools' },
      { method: 'PATCH', path: `/pools/${slowPool}` },
      { method: 'POST', path: `/pools/${slowPool}/resize` },
      { method: 'POST', path: `/pools/${slowPool}/updateproperties` },
      { method: 'POST', path: '/jobs' },
      { method: 'PATCH', path: `/jobs/${slowJob}` },
      { method: 'PUT', path: `/jobs/${slowJob}` },
      { method: 'POST', path: `/jobs/${slowJob}/tasks` },
      { method: 'POST', path: `/jobs/${slowJob}/addtaskcollection` },
      { method: 'PUT', path: `/jobs/${slowJob}/tasks/waiting` },
      { method: 'POST', path: '/jobschedules' },
    ];
    const before = await storedState();
    // Valid JSON, one byte over 1 MiB, that would change something if it were taken.
    const prefix = `{"id":"${uniqueId('Huge')}","priority":7,"metadata":[{"name":"pad","value":"`;
    const suffix = '"}]}';
    const huge = `${prefix}${'x'.repeat(1024 * 1024 + 1 - prefix.length - suffix.length)}${suffix}`;
    assert.equal(Buffer.byteLength(huge), 1024 * 1024 + 1);
    for (const { method, path } of targets) {
      const response = await signedRequest(slow, method, path, { body: huge });
      assert.equal(response.status, 413, `${method} ${path}: ${response.text.slice(0, 300)}`);
      assert.equal(response.body.code, 'RequestBodyTooLarge', `${method} ${path}`);
    }

    // Announced as too large and never sent: refused at once, not after the request timeout.
    const announced = await openRaw(slow, 'POST', '/jobs', undefined, { headers: { 'Content-Type': JSON_REQUEST_TYPE, 'Content-Length': String(4 * 1024 * 1024) } });
    assertBatchAnswer(await announced.answer, 413, 'RequestBodyTooLarge', 'a Content-Length over 1 MiB');
    announced.socket.destroy();

    // Chunked, with no Content-Length to refuse up front: refused once 1 MiB has arrived. (PATCH: @azure/batch's signer
    // signs a bodyless POST as Content-Length 0, which a chunked body must not match.)
    const chunked = await openRaw(slow, 'PATCH', `/jobs/${slowJob}`, undefined, { headers: { 'Content-Type': JSON_REQUEST_TYPE, 'Transfer-Encoding': 'chunked' } });
    const piece = Buffer.from('x'.repeat(64 * 1024));
    for (let sent = 0; sent <= 1024 * 1024 && !chunked.socket.destroyed; sent += piece.length) {
      chunked.socket.write(`${piece.length.toString(16)}\r\n`);
      chunked.socket.write(piece);
      chunked.socket.write('\r\n');
    }
    assertBatchAnswer(await chunked.answer, 413, 'RequestBodyTooLarge', 'a chunked body over 1 MiB');
    chunked.socket.destroy();

    assert.equal(await storedState(), before, 'an oversized body changed stored state');
  });

  test('@azure/batch sees the 413 RequestBodyTooLarge of an oversized task collection every time, never a broken pipe', async () => {
    // 100 tasks of some 20 KB each: 2 MB, still being written when the 413 comes back. Closing the connection
    // at once used to make the kernel reset it under the client's writes (EPIPE) in several of 20 tries.
    const tasks = Array.from({ length: 100 }, (_, index) => ({ id: `big${index}`, commandLine: `/bin/echo ${'z'.repeat(20 * 1024)}` }));
    for (let attempt = 1; attempt <= 20; attempt++) {
      await assert.rejects(slow.batch.task.addCollection(slowJob, tasks), (error: { statusCode?: number; code?: string; message?: string }) => {
        assert.equal(error.statusCode, 413, `try ${attempt}: ${error.code}: ${error.message}`);
        assert.equal(error.code, 'RequestBodyTooLarge', `try ${attempt}`);
        return true;
      });
    }
    assert.equal((await slow.batch.task.list(slowJob)).length, 1, 'no task of the refused collections was added');
  });

  test('after a 413 the connection closes in stages: the client may finish sending its body, then the server closes', async () => {
    // Announced as 2 MiB: answered at once. The rest of the body, sent after the answer, is read and dropped: no reset
    // (a client still writing would see EPIPE instead of the 413) and no FIN before it is in (a Node client ends its
    // side on the server's FIN, and its remaining writes fail the same way); then the server closes.
    const announced = 2 * 1024 * 1024;
    const request = await openRaw(slow, 'POST', '/jobs', undefined, { headers: { 'Content-Type': JSON_REQUEST_TYPE, 'Content-Length': String(announced) } });
    const events: string[] = [];
    request.socket.on('error', (error: NodeJS.ErrnoException) => events.push(`error ${error.code ?? error.message}`));
    request.socket.once('end', () => events.push('end'));
    assertBatchAnswer(await request.answer, 413, 'RequestBodyTooLarge', 'a Content-Length over 1 MiB');
    const piece = 256 * 1024;
    await dribble(request.socket, Buffer.alloc(announced - piece, 0x78), piece, 20);
    assert.deepEqual(events, [], 'the connection was closed or reset while the body was still being sent');
    request.socket.write(Buffer.alloc(piece, 0x78));
    await request.closed;
    assert.deepEqual(events, ['end'], 'the server closes once the body is in');
  });

  test('a body sent in small pieces, slowly but within the request timeout, is served normally', async () => {
    const id = uniqueId('SlowBody');
    const body = JSON.stringify({ id, poolInfo: { poolId: slowPool }, metadata: [{ name: 'note', value: 'y'.repeat(500) }] });
    const request = await openRaw(slow, 'POST', '/jobs', body);
    // About 600 bytes in 32-byte pieces, 20 ms apart: some 400 ms, well inside 3 s.
    await dribble(request.socket, request.body, 32, 20);
    const answer = await request.answer;
    request.socket.destroy();
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const job = await slow.batch.job.get(id);
    assert.equal(job.metadata?.[0]?.value, 'y'.repeat(500));
    await slow.batch.job.deleteMethod(id);
  });

  // The timeout makes a server that never answers fail the test instead of hanging the file.
  test('a request that stops midway is answered 408 OperationTimedOut and closed by the server, others are served meanwhile, and nothing is stored', { timeout: 30_000 }, async () => {
    const before = await storedState();
    const id = uniqueId('Stalled');
    const body = JSON.stringify({ id, poolInfo: { poolId: slowPool } });
    const stalledBody = await openRaw(slow, 'POST', '/jobs', body);
    stalledBody.socket.write(stalledBody.body.subarray(0, 10));
    const stalledTask = await openRaw(slow, 'POST', `/jobs/${slowJob}/tasks`, JSON.stringify({ id: 'stalled-task', commandLine: '/bin/true' }));
    stalledTask.socket.write(stalledTask.body.subarray(0, stalledTask.body.length - 1));
    // Headers that never end (a slowloris client).
    const stalledHead = await openRaw(slow, 'GET', '/jobs', undefined, { finishHead: false });

    // The server keeps serving others while those wait.
    const listed = await signedRequest(slow, 'GET', '/jobs');
    assert.equal(listed.status, 200);
    assert.equal((await signedRequest(slow, 'GET', `/jobs/${slowJob}`)).status, 200);

    // Each is answered (not left hanging) and its connection closed by the server; the client never ends them.
    for (const [what, request] of [['a stalled body', stalledBody], ['a body one byte short', stalledTask], ['stalled headers', stalledHead]] as const) {
      assertBatchAnswer(await request.answer, 408, 'OperationTimedOut', what);
      await request.closed;
    }
    assert.equal((await signedRequest(slow, 'GET', `/jobs/${id}`)).status, 404);
    assert.equal(await storedState(), before, 'a stalled request changed stored state');
  });

  test('a client that disconnects or half-closes mid-body changes nothing and the server keeps serving', { timeout: 30_000 }, async () => {
    const before = await storedState();
    for (const ending of ['destroy', 'end'] as const) {
      const id = uniqueId(`Cut-${ending}`);
      const request = await openRaw(slow, 'POST', '/jobs', JSON.stringify({ id, poolInfo: { poolId: slowPool } }));
      request.socket.write(request.body.subarray(0, Math.floor(request.body.length / 2)));
      await pause(50);
      if (ending === 'destroy') request.socket.destroy();
      else request.socket.end();
      await request.closed;
      const answer = await request.answer;
      // A half-closed client may still get an answer; it must be a client error, never a server error.
      assert.ok(answer.status === 0 || (answer.status >= 400 && answer.status < 500), `${ending}: answered ${answer.status}`);
      assert.equal((await signedRequest(slow, 'GET', `/jobs/${id}`)).status, 404, `${ending}: the cut-off job was stored`);
    }
    const served = await signedRequest(slow, 'GET', '/pools');
    assert.equal(served.status, 200);
    assert.equal(await storedState(), before, 'a cut-off request changed stored state');
  });

  test('stopping the server does not wait for a client stalled mid-body', { timeout: 15_000 }, async () => {
    // The default request timeout (30 s) is longer than this test may take: stop() must close the connection itself.
    const server = await startTestServer();
    try {
      const request = await openRaw(server, 'POST', '/jobs', JSON.stringify({ id: uniqueId('AtStop'), poolInfo: { poolId: 'none' } }));
      request.socket.write(request.body.subarray(0, 5));
      await server.stop();
      await request.closed;
    } finally {
      await server.stop();
    }
  });
});
