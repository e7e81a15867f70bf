// What `lapis serve` logs about itself (docs/observability.md), read from its
// --log-file as an operator would: each state change as a line, what a stop
// ends (counts and ids), and what the next start's recovery did with it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { addPoolAndWait, waitForTaskState } from '../../src/testkit/builders.js';
import { waitFor } from '../../src/testkit/test-server.js';
import { serveLapis, type ServedLapis } from '../fixtures/reliability.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-lifecycle-log-'));
const logFile = path.join(dataDir, 'logs', 'lapis.log');
const args = ['--log-level', 'info', '--log-file', logFile];
let served: ServedLapis | undefined;

after(async () => {
  await served?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

function logLines(): LogLine[] {
  return fs
    .readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LogLine);
}

test('the log file has each state change, what a stop ended and what the next start requeued, with ids', { timeout: 120_000 }, async () => {
  served = await serveLapis(dataDir, args);
  const { batch } = served;
  await addPoolAndWait(batch, 'LogPool', { targetDedicatedNodes: 1 });
  await batch.job.add({ id: 'LogJob', poolInfo: { poolId: 'LogPool' } });
  await batch.task.add('LogJob', { id: 'LongTask', commandLine: '/bin/sh -c "sleep 300"' });
  await waitForTaskState(batch, 'LogJob', 'LongTask', 'running');
  await served.stop();
  assert.equal((await served.exited).code, 0);

  const first = logLines();
  assert.ok(first.some((line) => line.msg.startsWith('pool LogPool added') && (line.event as { resource: string }).resource === 'pool'), 'the pool added');
  assert.ok(first.some((line) => /^pool LogPool resizing → steady \(1\/1 dedicated/.test(line.msg)), 'the pool steady');
  assert.ok(first.some((line) => line.msg === 'job LogJob added, active'), 'the job added');
  const stopping = first.find((line) => line.msg.startsWith('stopping:') && line.runningTasks !== undefined);
  assert.ok(stopping, 'the stop says what it ends');
  assert.equal(stopping.msg, 'stopping: 1 running task(s) on 1 node(s) end now and are requeued at the next start');
  assert.deepEqual(stopping.tasks, ['lapis/LogJob/LongTask']);
  assert.ok(first.some((line) => line.msg === 'stopped'));

  served = await serveLapis(dataDir, args);
  const recovered = await waitFor(() => logLines().find((line) => line.msg.startsWith('recovered after restart')), { what: 'the recovery line' });
  assert.equal(recovered.requeuedTasks, 1);
  assert.deepEqual(recovered.requeued, ['lapis/LogJob/LongTask']);
  assert.equal(recovered.nodesRestarted, 1);
  assert.ok(logLines().some((line) => line.msg === 'task LogJob/LongTask requeued (requeue 1)'), 'the requeue itself, as an event');
  const task = await waitForTaskState(served.batch, 'LogJob', 'LongTask', 'running');
  assert.equal(task.executionInfo?.requeueCount, 1);
});
