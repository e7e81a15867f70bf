import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DEV_ACCOUNT } from '../../src/config/config.js';
import { isAlive, poolSpec, waitForPoolSteady, waitForTaskState } from '../../src/testkit/builders.js';
import { waitFor } from '../../src/testkit/test-server.js';

const BIN = path.resolve('bin/lapis.js');

async function serve(dataDir: string): Promise<{ child: ChildProcess; batch: BatchServiceClient }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--blob-port', '0', '--data', dataDir, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const batchUrl = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /^Batch URL:\s+(\S+)$/m.exec(output)?.[1];
      if (url && /^ready$/m.test(output)) resolve(url);
    });
    child.once('exit', (code) => reject(new Error(`lapis serve exited with ${code}: ${output}`)));
  });
  return { child, batch: new BatchServiceClient(new BatchSharedKeyCredentials(DEV_ACCOUNT.name, DEV_ACCOUNT.key), batchUrl) };
}

test('after kill -9 of lapis serve, a restart requeues the running task and ends its orphaned process', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-crash-'));
  // Tasks may run as an unprivileged user: the ledger directory is open to them.
  const ledger = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-ledger-'));
  fs.chmodSync(ledger, 0o777);
  let second: ChildProcess | undefined;
  const first = await serve(dataDir);
  try {
    await first.batch.pool.add(poolSpec('CrashPool', { targetDedicatedNodes: 1 }));
    await waitForPoolSteady(first.batch, 'CrashPool');
    await first.batch.job.add({ id: 'CrashJob', poolInfo: { poolId: 'CrashPool' } });
    // First run: records its pid and sleeps; a later run finishes at once.
    const script = `if [ -e ${ledger}/started ]; then echo second run; else echo $$ > ${ledger}/started; exec sleep 300; fi`;
    await first.batch.task.add('CrashJob', { id: 'Survivor', commandLine: `/bin/sh -c '${script}'` });
    await waitForTaskState(first.batch, 'CrashJob', 'Survivor', 'running');
    const pid = await waitFor(() => {
      const text = fs.existsSync(path.join(ledger, 'started')) ? fs.readFileSync(path.join(ledger, 'started'), 'utf8').trim() : '';
      return text ? Number(text) : undefined;
    });
    assert.ok(isAlive(pid));

    const died = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    await died;
    assert.ok(isAlive(pid), 'the task outlives a kill -9 of the server');

    const restarted = await serve(dataDir);
    second = restarted.child;
    const task = await waitForTaskState(restarted.batch, 'CrashJob', 'Survivor', 'completed');
    assert.equal(task.executionInfo?.result, 'success');
    assert.equal(task.executionInfo?.requeueCount, 1);
    assert.equal(task.executionInfo?.retryCount, 0);
    await waitFor(() => (isAlive(pid) ? undefined : true), { what: 'the orphaned process to be ended' });
  } finally {
    first.child.kill('SIGKILL');
    second?.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(ledger, { recursive: true, force: true });
  }
});
