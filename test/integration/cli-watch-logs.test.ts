// `lapis watch` and `lapis logs` as a user runs them, as child processes
// against a real server: watch shows a job's progress and its failures as
// they happen, ends when its tasks have completed and exits 1 when one
// failed (0 when none did); logs --follow prints a task's stdout while the
// task still runs, and ends with it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { progressLine } from '../../src/cli/watch-command.js';
import { addPoolAndWait, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

const BIN = path.resolve('bin/lapis.js');
let server: TestServer;
let poolId: string;
let ledger: string;

before(async () => {
  server = await startTestServer();
  poolId = uniqueId('CliPool');
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, taskSlotsPerNode: 4 });
  ledger = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-cli-watch-'));
  fs.chmodSync(ledger, 0o777);
});

after(async () => {
  await server?.stop();
  fs.rmSync(ledger, { recursive: true, force: true });
});

interface Run {
  output: () => string;
  exited: Promise<number | null>;
}

function lapis(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, ...args, '--url', server.lapis.batchUrl], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LAPIS_KEY: '' } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { output: () => output, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
}

const released = (name: string) => `while [ ! -e ${ledger}/${name} ]; do sleep 0.1; done`;

test('lapis watch prints each failure as it happens, the counts as a bar, and exits 1 when a task failed', { timeout: 90_000 }, async () => {
  const jobId = uniqueId('WatchJob');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.addCollection(jobId, [
    { id: 'fine', commandLine: `/bin/sh -c '${released('go')}'` },
    { id: 'broken', commandLine: `/bin/sh -c '${released('go')}; exit 3'` },
  ]);
  const watch = lapis(['watch', '--job', jobId]);
  await waitFor(() => (watch.output().includes('2 running') ? true : undefined), { what: 'the progress with both tasks running' });
  fs.writeFileSync(path.join(ledger, 'go'), '');
  assert.equal(await watch.exited, 1, watch.output());
  const lines = watch.output().trim().split('\n');
  assert.ok(lines.includes('task broken failed: exit code 3, FailureExitCode'), watch.output());
  assert.equal(lines.at(-1), '[##############################] 2/2 completed (1 succeeded, 1 failed), 0 running, 0 active');
});

test('lapis watch exits 0 when every task succeeded, and refuses a job that does not exist', { timeout: 60_000 }, async () => {
  const jobId = uniqueId('WatchOk');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, { id: 'one', commandLine: '/bin/true' });
  const watch = lapis(['watch', '--job', jobId]);
  assert.equal(await watch.exited, 0, watch.output());
  assert.match(watch.output(), /1\/1 completed \(1 succeeded, 0 failed\)/);
  const missing = lapis(['watch', '--job', 'no-such-job']);
  assert.equal(await missing.exited, 1);
  assert.match(missing.output(), /^lapis: JobNotFound: /m);
});

test('the progress bar fills with the completed share', () => {
  assert.equal(progressLine({ active: 2, running: 1, completed: 1, succeeded: 1, failed: 0 }), '[########......................] 1/4 completed (1 succeeded, 0 failed), 1 running, 2 active');
});

test('lapis logs --follow prints what a running task writes before it ends, then ends with it', { timeout: 60_000 }, async () => {
  const jobId = uniqueId('LogsJob');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, { id: 'talker', commandLine: `/bin/sh -c 'echo first line; ${released('more')}; echo second line'` });
  const follow = lapis(['logs', jobId, 'talker', '--follow']);
  await waitFor(() => (follow.output().includes('first line') ? true : undefined), { what: 'the first line, streamed' });
  assert.equal((await server.batch.task.get(jobId, 'talker')).state, 'running', 'printed while the task still runs');
  fs.writeFileSync(path.join(ledger, 'more'), '');
  assert.equal(await follow.exited, 0, follow.output());
  assert.equal(follow.output(), 'first line\nsecond line\n');
  await waitForTaskState(server.batch, jobId, 'talker', 'completed');

  const once = lapis(['logs', jobId, 'talker']);
  assert.equal(await once.exited, 0);
  assert.equal(once.output(), 'first line\nsecond line\n');
});
