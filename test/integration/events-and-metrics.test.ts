// What `lapis serve` tells about itself (docs/observability.md), through a
// real server and @azure/batch: the event stream of an account while a pool
// resizes, a start task fails and a task is requeued; /metrics as Prometheus
// text whose task numbers match Job_GetTaskCounts; /health?detail=true; and
// one account never reading another's events.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LapisEvent } from '../../src/core/events.js';
import { DEV_ACCOUNT } from '../../src/config/config.js';
import { addPoolAndWait, poolSpec, uniqueId, waitForPoolSteady, waitForTaskState } from '../../src/testkit/builders.js';
import { signedRequest } from '../../src/testkit/signed-request.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';
import { openEventStream, type EventStream } from '../fixtures/event-stream.js';

const OTHER = { name: 'othertenant', key: Buffer.from('the other tenant of the events test, a key of sixty-four bytes!!').toString('base64') };

let server: TestServer;
let stream: EventStream;

before(async () => {
  server = await startTestServer({ config: { accounts: [DEV_ACCOUNT, OTHER] } });
  stream = await openEventStream(server);
});

after(async () => {
  stream?.close();
  await server?.stop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus's text format (version 0.0.4): `# HELP`/`# TYPE` lines, then `name{label="value",…} value`. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[name as string] = value as string;
    // A float as Go's ParseFloat reads it: NaN (prom-client writes `Nan` for a gauge not sampled yet) and ±Inf included.
    const text = match[3] as string;
    const value = /^nan$/i.test(text) ? NaN : /^[+-]?inf$/i.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : Number(text);
    assert.ok(/^nan$/i.test(text) || !Number.isNaN(value), `a number: ${line}`);
    samples.push({ name: match[1] as string, labels, value });
  }
  return samples;
}

function sampleOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value;
}

async function metrics(): Promise<Sample[]> {
  const response = await fetch(`${server.lapis.batchUrl}/metrics`);
  assert.equal(response.status, 200, 'open like /health: no key needed');
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await response.text());
}

describe('the event stream', () => {
  test('tells a pool resize, a failed start task and a requeued task, in order, with what explains each', async () => {
    assert.equal(stream.status, 200);
    assert.match(stream.contentType ?? '', /^text\/event-stream/);
    const { batch } = server;
    const poolId = uniqueId('EventPool');
    await addPoolAndWait(batch, poolId, { targetDedicatedNodes: 1 });
    await stream.next((e) => e.resource === 'pool' && e.poolId === poolId && e.change === 'added', 'the pool added');
    const steady = await stream.next((e) => e.resource === 'pool' && e.poolId === poolId && e.detail?.allocationState === 'steady' && e.detail.currentDedicatedNodes === 1, 'the pool steady with one node');
    assert.equal(steady.detail?.previousAllocationState, 'resizing');

    await batch.pool.resize(poolId, { targetDedicatedNodes: 2 });
    const resizing = await stream.next((e) => e.resource === 'pool' && e.poolId === poolId && e.detail?.allocationState === 'resizing' && e.detail.targetDedicatedNodes === 2, 'the resize');
    assert.equal(resizing.change, 'state');
    assert.equal(resizing.detail?.previousAllocationState, 'steady');
    const resized = await stream.next((e) => e.resource === 'pool' && e.poolId === poolId && e.id > resizing.id && e.detail?.allocationState === 'steady', 'the pool steady again');
    assert.equal(resized.detail?.currentDedicatedNodes, 2);
    await waitForPoolSteady(batch, poolId);
    const nodeIds = (await batch.computeNode.list(poolId)).map((node) => node.id as string);
    for (const nodeId of nodeIds) {
      const added = await stream.next((e) => e.resource === 'node' && e.nodeId === nodeId && e.change === 'added', `node ${nodeId} added`);
      assert.equal(added.poolId, poolId);
      await stream.next((e) => e.resource === 'node' && e.nodeId === nodeId && e.state === 'idle', `node ${nodeId} idle`);
    }

    const brokenPool = uniqueId('EventBroken');
    await batch.pool.add(poolSpec(brokenPool, { targetDedicatedNodes: 1, startTask: { commandLine: '/bin/sh -c "exit 7"', waitForSuccess: true } }));
    const failed = await stream.next((e) => e.resource === 'node' && e.poolId === brokenPool && e.state === 'starttaskfailed', 'the start task failure');
    assert.equal(failed.change, 'state');
    assert.equal(failed.detail?.exitCode, 7);
    assert.equal(failed.detail?.failureCode, 'FailureExitCode');

    const jobId = uniqueId('EventJob');
    await batch.job.add({ id: jobId, poolInfo: { poolId } });
    await stream.next((e) => e.resource === 'job' && e.jobId === jobId && e.change === 'added' && e.state === 'active', 'the job added');
    await batch.task.add(jobId, { id: 'sleeper', commandLine: '/bin/sh -c "sleep 300"' });
    const running = await waitForTaskState(batch, jobId, 'sleeper', 'running');
    const nodeId = running.nodeInfo?.nodeId as string;
    await stream.next((e) => e.resource === 'task' && e.taskId === 'sleeper' && e.change === 'added' && e.state === 'active', 'the task added');
    const started = await stream.next((e) => e.resource === 'task' && e.taskId === 'sleeper' && e.state === 'running', 'the task running');
    assert.equal(started.previousState, 'active');
    assert.equal(started.detail?.nodeId, nodeId);
    assert.equal(typeof started.detail?.queuedMs, 'number');

    // A reboot that requeues: the task goes back to the queue without a retry, as when Batch loses a node.
    await batch.computeNode.reboot(poolId, nodeId, { nodeRebootOption: 'requeue' });
    const requeued = await stream.next((e) => e.resource === 'task' && e.taskId === 'sleeper' && e.change === 'requeued', 'the requeue');
    assert.equal(requeued.state, 'active');
    assert.equal(requeued.previousState, 'running');
    assert.equal(requeued.detail?.requeueCount, 1);
    await stream.next((e) => e.resource === 'node' && e.nodeId === nodeId && e.state === 'rebooting', 'the node rebooting');
    await stream.next((e) => e.resource === 'task' && e.taskId === 'sleeper' && e.state === 'running' && e.id > requeued.id, 'the task running again');

    await batch.task.terminate(jobId, 'sleeper');
    const ended = await stream.next((e) => e.resource === 'task' && e.taskId === 'sleeper' && e.state === 'completed', 'the task completed');
    assert.equal(ended.detail?.result, 'failure');
    assert.equal(ended.detail?.failureCode, 'TaskEnded');
    assert.equal(typeof ended.detail?.runMs, 'number');

    const ids = stream.events().map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'ids increase');
    assert.equal(new Set(ids).size, ids.length, 'each event once');
    assert.ok(stream.events().every((e) => e.account === DEV_ACCOUNT.name), "only the caller's account");
  });

  test('a client resumes after the last id it saw, and an unknown id is refused as Batch refuses a bad query parameter', async () => {
    const seen = stream.events();
    const middle = seen[Math.floor(seen.length / 2)] as LapisEvent;
    const resumed = await openEventStream(server, { query: `since=${middle.id}` });
    try {
      assert.equal((await waitFor(() => resumed.events()[0], { what: 'the replay' })).id, firstAfter(seen, middle.id));
    } finally {
      resumed.close();
    }
    const byHeader = await openEventStream(server, { query: '', headers: { 'Last-Event-ID': String(middle.id) } });
    try {
      assert.equal((await waitFor(() => byHeader.events()[0], { what: 'the replay' })).id, firstAfter(seen, middle.id));
    } finally {
      byHeader.close();
    }
    // An id this server never gave (one from before a restart): told as a gap, then everything kept.
    const stale = await openEventStream(server, { query: `since=${Number.MAX_SAFE_INTEGER}` });
    try {
      await waitFor(() => stale.events()[0], { what: 'the replay after the gap' });
      assert.equal(stale.received[0]?.event, 'gap');
      assert.deepEqual(JSON.parse(stale.received[0]?.data ?? '{}').serverRestarted, true);
      assert.equal(stale.events()[0]?.id, seen[0]?.id);
    } finally {
      stale.close();
    }
    const jobId = seen.find((e) => e.resource === 'task')?.jobId as string;
    const oneJob = await openEventStream(server, { query: `since=0&jobId=${jobId.toUpperCase()}` });
    try {
      await waitFor(() => (oneJob.events().length === seen.filter((e) => e.jobId === jobId).length ? true : undefined), { what: "the job's events" });
      assert.ok(oneJob.events().every((e) => e.jobId === jobId), 'only that job, its id matched without regard to case');
    } finally {
      oneJob.close();
    }
    const bad = await signedRequest(server, 'GET', '/lapis/events', { query: 'since=yesterday' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'InvalidQueryParameterValue');
  });

  test("another account reads only its own events, and a wrong key reads none", async () => {
    const other = await openEventStream(server, { credentials: OTHER });
    try {
      assert.equal(other.status, 200);
      const otherBatch = server.batchClientFor(OTHER.name, OTHER.key);
      const jobId = uniqueId('OtherJob');
      // The job's pool need not exist: the job is added all the same.
      await otherBatch.job.add({ id: jobId, poolInfo: { poolId: 'nowhere' } });
      await other.next((e) => e.jobId === jobId && e.change === 'added', "the other account's job");
      assert.ok(other.events().length > 0);
      assert.ok(other.events().every((e) => e.account === OTHER.name), "none of the first account's events");
      assert.ok(!stream.events().some((e) => e.jobId === jobId), 'nor the other way round');
    } finally {
      other.close();
    }
    const forged = await signedRequest(server, 'GET', '/lapis/events', { query: 'since=0', credentials: { name: DEV_ACCOUNT.name, key: OTHER.key } });
    assert.equal(forged.status, 403);
    assert.equal(forged.body.code, 'AuthenticationFailed');
    const anonymous = await signedRequest(server, 'GET', '/lapis/events', { query: 'since=0', credentials: false });
    assert.equal(anonymous.status, 403);
  });
});

function firstAfter(events: LapisEvent[], after: number): number | undefined {
  return events.find((e) => e.id > after)?.id;
}

describe('metrics and health', () => {
  test("/metrics parses as Prometheus text and its task numbers are Job_GetTaskCounts's", async () => {
    const { batch } = server;
    const poolId = uniqueId('MetricsPool');
    await addPoolAndWait(batch, poolId, { targetDedicatedNodes: 1, taskSlotsPerNode: 4 });
    const jobId = uniqueId('MetricsJob');
    await batch.job.add({ id: jobId, poolInfo: { poolId } });
    await batch.task.addCollection(jobId, [
      { id: 'ok-1', commandLine: '/bin/true' },
      { id: 'ok-2', commandLine: '/bin/true' },
      { id: 'fails', commandLine: '/bin/sh -c "exit 2"' },
      { id: 'waits', commandLine: '/bin/sh -c "sleep 300"' },
    ]);
    await waitForTaskState(batch, jobId, 'waits', 'running');
    for (const id of ['ok-1', 'ok-2', 'fails']) await waitForTaskState(batch, jobId, id, 'completed');

    // Every task of the account: the events test's job and this one.
    const jobs = await batch.job.list();
    const totals = { active: 0, running: 0, succeeded: 0, failed: 0 };
    for (const job of jobs) {
      const counts = (await batch.job.getTaskCounts(job.id as string)).taskCounts;
      totals.active += counts.active;
      totals.running += counts.running;
      totals.succeeded += counts.succeeded;
      totals.failed += counts.failed;
    }
    assert.ok(totals.succeeded >= 2 && totals.failed >= 2 && totals.running >= 1);
    const samples = await metrics();
    for (const [state, count] of Object.entries(totals)) {
      assert.equal(sampleOf(samples, 'lapis_tasks', { account: DEV_ACCOUNT.name, state }) ?? 0, count, `tasks ${state}`);
    }
    const nodes = await batch.computeNode.list(poolId);
    assert.equal(sampleOf(samples, 'lapis_nodes', { account: DEV_ACCOUNT.name, pool: poolId, state: 'running' }), nodes.filter((n) => n.state === 'running').length);
    assert.ok((sampleOf(samples, 'lapis_task_queued_seconds_count') ?? 0) >= 4, 'each start measured its wait');
    assert.ok((sampleOf(samples, 'lapis_task_run_seconds_count', { result: 'success' }) ?? 0) >= 2);
    assert.ok((sampleOf(samples, 'lapis_task_run_seconds_count', { result: 'failure' }) ?? 0) >= 1);
    assert.equal(sampleOf(samples, 'lapis_api_request_seconds_count', { operation: 'Task_AddCollection', code: '200' }), 1);
    assert.ok((sampleOf(samples, 'lapis_api_request_seconds_count', { operation: 'Task_Get', code: '200' }) ?? 0) >= 4);
    assert.equal(sampleOf(samples, 'lapis_store_up'), 1);
    assert.equal(sampleOf(samples, 'lapis_blob_up'), 1);
    assert.ok((sampleOf(samples, 'lapis_events_total', { resource: 'task', change: 'added' }) ?? 0) >= 5);
    await batch.job.terminate(jobId);
  });

  test('/health?detail=true lists the store, the blob endpoint, the node runtime and the version; /health stays short', async () => {
    const plain = await fetch(`${server.lapis.batchUrl}/health`);
    assert.deepEqual(await plain.json(), { status: 'ok' });
    const response = await fetch(`${server.lapis.batchUrl}/health?detail=true`);
    assert.equal(response.status, 200);
    const detail = (await response.json()) as Record<string, any>;
    assert.equal(detail.status, 'ok');
    assert.match(detail.version, /^\d+\.\d+\.\d+/);
    assert.equal(detail.store.status, 'up');
    assert.equal(detail.blob.status, 'up');
    assert.equal(detail.blob.endpoint, server.lapis.blobUrl);
    assert.equal(detail.blob.embedded, true);
    assert.equal(detail.nodeRuntime.name, 'process');
    const nodes = Object.values(detail.nodeRuntime.nodes as Record<string, number>).reduce((sum, count) => sum + count, 0);
    assert.ok(nodes >= 4, 'every node of every pool, counted by state');
  });
});

test('a blob endpoint that does not answer shows in /health?detail=true (503, degraded) and in lapis_blob_up', async () => {
  const lonely = await startTestServer({ config: { blob: { ...server.lapis.config.blob, externalEndpoint: 'http://127.0.0.1:1/devstoreaccount1' } } });
  try {
    const response = await fetch(`${lonely.lapis.batchUrl}/health?detail=true`);
    assert.equal(response.status, 503);
    const detail = (await response.json()) as { status: string; store: { status: string }; blob: { status: string; embedded: boolean; error?: string } };
    assert.equal(detail.status, 'degraded');
    assert.equal(detail.store.status, 'up');
    assert.equal(detail.blob.status, 'down');
    assert.equal(detail.blob.embedded, false);
    assert.match(detail.blob.error ?? '', /ECONNREFUSED/);
    const samples = parsePrometheus(await (await fetch(`${lonely.lapis.batchUrl}/metrics`)).text());
    assert.equal(sampleOf(samples, 'lapis_blob_up'), 0);
    assert.equal(sampleOf(samples, 'lapis_store_up'), 1);
  } finally {
    await lonely.stop();
  }
});
