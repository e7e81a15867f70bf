import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isAlive, poolSpec, waitForPoolSteady, waitForTaskState } from '../../src/testkit/builders.js';
import { waitFor } from '../../src/testkit/test-server.js';
import { agentPidOf, serveLapis, type ServedLapis } from '../fixtures/reliability.js';

test('after kill -9 of lapis serve, a restart requeues the running task and ends its orphaned process', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-crash-'));
  // Tasks may run as an unprivileged user: the ledger directory is open to them.
  const ledger = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-ledger-'));
  fs.chmodSync(ledger, 0o777);
  let second: ServedLapis | undefined;
  const first = await serveLapis(dataDir);
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

    const [node] = await first.batch.computeNode.list('CrashPool');
    const agent = agentPidOf(node?.id as string);
    assert.ok(agent, 'the node has an agent process');
    await first.kill9();
    assert.ok(isAlive(pid), 'the task outlives a kill -9 of the server');
    // Its lifeline gone, the agent ends with the server that started it; the task's launcher records its end.
    await waitFor(() => (isAlive(agent) ? undefined : true), { what: "the node's agent to end with its server" });

    second = await serveLapis(dataDir);
    const task = await waitForTaskState(second.batch, 'CrashJob', 'Survivor', 'completed');
    assert.equal(task.executionInfo?.result, 'success');
    assert.equal(task.executionInfo?.requeueCount, 1);
    assert.equal(task.executionInfo?.retryCount, 0);
    await waitFor(() => (isAlive(pid) ? undefined : true), { what: 'the orphaned process to be ended' });
  } finally {
    await first.kill9();
    await second?.kill9();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(ledger, { recursive: true, force: true });
  }
});
