// Issue 6, fault 4: many concurrent clients adding tasks and polling them.
// No answer but success or Batch's documented throttling (429
// TooManyRequests / 503 ServerBusy); p50/p99 latency reported.
//
// Each client, on its own keep-alive connection, loops: add a task
// (/bin/true), poll it until completed, and every fifth round list the
// job's completed tasks and its task counts. Requests are sent raw and once,
// so no SDK retry hides an error. `lapis serve` runs as a child process, so
// latencies are the server's, not this process's event loop.
//
// Reduced: 10 clients for 10 s; LAPIS_FULL_RELIABILITY=1: 50 clients for 60 s.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { poolSpec, waitForPoolSteady } from '../../src/testkit/builders.js';
import { FULL, newAgent, percentile, rawRequest, reportFigures, serveLapis, sized, type RawResponse, type ServedLapis } from '../fixtures/reliability.js';

const CLIENTS = sized(10, 50);
const DURATION_MS = sized(10_000, 60_000);
const POLL_MS = 100;
const THROTTLING = new Set([429, 503]);

interface Sample {
  op: string;
  status: number;
  ms: number;
}

test(`${CLIENTS} concurrent clients adding and polling tasks for ${DURATION_MS / 1000} s: no errors but throttling`, { timeout: FULL ? 300_000 : 90_000 }, async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-rel-load-'));
  let server: ServedLapis | undefined;
  try {
    server = await serveLapis(dataDir);
    const { batchUrl } = server;
    await server.batch.pool.add(poolSpec('LoadPool', { targetDedicatedNodes: 4, taskSlotsPerNode: 4 }));
    await waitForPoolSteady(server.batch, 'LoadPool');
    await server.batch.job.add({ id: 'LoadJob', poolInfo: { poolId: 'LoadPool' } });

    const samples: Sample[] = [];
    const unexpected: string[] = [];
    const turnaround: number[] = [];
    let added = 0;
    let completed = 0;
    const record = (op: string, response: RawResponse, expected: number): boolean => {
      samples.push({ op, status: response.status, ms: response.ms });
      if (response.status === expected) return true;
      if (!THROTTLING.has(response.status) && unexpected.length < 20) {
        unexpected.push(`${op}: ${response.status} ${response.error ?? response.text.slice(0, 200)}`);
      }
      return false;
    };
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const deadline = performance.now() + DURATION_MS;

    const clients = Array.from({ length: CLIENTS }, async (_, client) => {
      const agent = newAgent();
      for (let round = 0; performance.now() < deadline; round += 1) {
        const id = `c${client}-r${round}`;
        const addedAt = performance.now();
        const add = await rawRequest(batchUrl, 'POST', '/jobs/LoadJob/tasks', { body: { id, commandLine: '/bin/true' }, agent });
        if (!record('add task', add, 201)) {
          await sleep(POLL_MS);
          continue;
        }
        added += 1;
        while (performance.now() < deadline) {
          const get = await rawRequest(batchUrl, 'GET', `/jobs/LoadJob/tasks/${id}`, { agent });
          if (record('get task', get, 200) && get.body.state === 'completed') {
            completed += 1;
            turnaround.push(performance.now() - addedAt);
            break;
          }
          await sleep(POLL_MS);
        }
        if (round % 5 === 4) {
          const filter = encodeURIComponent("state eq 'completed'");
          record('list tasks', await rawRequest(batchUrl, 'GET', `/jobs/LoadJob/tasks?$filter=${filter}&$select=id,state&maxresults=100`, { agent }), 200);
          record('task counts', await rawRequest(batchUrl, 'GET', '/jobs/LoadJob/taskcounts', { agent }), 200);
        }
      }
      agent.destroy();
    });
    await Promise.all(clients);
    assert.ok(server.child.exitCode === null && server.child.signalCode === null, `lapis serve is still running: ${server.stderr()}`);

    const latencies = samples.map((sample) => sample.ms);
    const byOp: Record<string, { n: number; p50: number; p99: number }> = {};
    for (const op of new Set(samples.map((sample) => sample.op))) {
      const ms = samples.filter((sample) => sample.op === op).map((sample) => sample.ms);
      byOp[op] = { n: ms.length, p50: round1(percentile(ms, 50)), p99: round1(percentile(ms, 99)) };
    }
    const serverErrors = samples.filter((sample) => sample.status >= 500 && !THROTTLING.has(sample.status)).length;
    const throttled = samples.filter((sample) => THROTTLING.has(sample.status)).length;
    const failedConnections = samples.filter((sample) => sample.status === 0).length;
    reportFigures(t, 'load', {
      clients: CLIENTS,
      seconds: DURATION_MS / 1000,
      requests: samples.length,
      requestsPerSecond: Math.round(samples.length / (DURATION_MS / 1000)),
      p50Ms: round1(percentile(latencies, 50)),
      p99Ms: round1(percentile(latencies, 99)),
      maxMs: round1(Math.max(...latencies)),
      byOp,
      serverErrors,
      throttled,
      failedConnections,
      tasksAdded: added,
      tasksCompleted: completed,
      addToCompletedP50Ms: Math.round(percentile(turnaround, 50)),
      addToCompletedP99Ms: Math.round(percentile(turnaround, 99)),
    });
    assert.deepEqual(unexpected, [], 'every answer is a success or Batch throttling (429/503)');
    assert.equal(serverErrors, 0, `5xx answers of ${samples.length} requests`);
    assert.ok(completed > 0, 'tasks completed under load');
  } finally {
    await server?.kill9();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
