// Pools, nodes, jobs and tasks survive a clean restart of Lapis on the same
// data directory; a task that was running when Lapis stopped is requeued and
// runs again, as Batch does when a node fails (the kill -9 path is in
// crash-restart.test.ts).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { addPoolAndWait, readStream, waitForPoolSteady, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor } from '../../src/testkit/test-server.js';

test('a restart on the same data dir keeps every resource and requeues the running task', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-persist-'));
  const ledger = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-ledger-'));
  fs.chmodSync(ledger, 0o777);
  const first = await startTestServer({ dataDir });
  let second: Awaited<ReturnType<typeof startTestServer>> | undefined;
  try {
    await addPoolAndWait(first.batch, 'PersistPool', { targetDedicatedNodes: 2, metadata: [{ name: 'owner', value: 'persistence' }] });
    await first.batch.job.add({ id: 'PersistJob', poolInfo: { poolId: 'PersistPool' }, priority: 7 });
    await first.batch.task.add('PersistJob', { id: 'Done', commandLine: '/bin/echo finished before the restart' });
    await waitForTaskState(first.batch, 'PersistJob', 'Done', 'completed');
    const script = `if [ -e ${ledger}/started ]; then echo second run; else touch ${ledger}/started; exec sleep 300; fi`;
    await first.batch.task.add('PersistJob', { id: 'Interrupted', commandLine: `/bin/sh -c '${script}'` });
    await waitForTaskState(first.batch, 'PersistJob', 'Interrupted', 'running');
    await waitFor(() => (fs.existsSync(path.join(ledger, 'started')) ? true : undefined));
    await first.batch.task.add('PersistJob', { id: 'Later', commandLine: '/bin/echo added just before the stop' });

    const before = {
      pool: await first.batch.pool.get('PersistPool'),
      nodes: (await first.batch.computeNode.list('PersistPool')).map((node) => node.id).sort(),
      job: await first.batch.job.get('PersistJob'),
      done: await first.batch.task.get('PersistJob', 'Done'),
    };
    await first.stop();

    second = await startTestServer({ dataDir });
    const batch = second.batch;
    const pool = await waitForPoolSteady(batch, 'persistpool');
    assert.equal(pool.id, 'PersistPool', 'ids keep their case and are found in any case');
    assert.equal(pool.eTag, before.pool.eTag);
    assert.equal(pool.creationTime?.toISOString(), before.pool.creationTime?.toISOString());
    assert.deepEqual(pool.metadata, [{ name: 'owner', value: 'persistence' }]);
    assert.deepEqual((await batch.computeNode.list('PersistPool')).map((node) => node.id).sort(), before.nodes);

    const job = await batch.job.get('PersistJob');
    assert.equal(job.priority, 7);
    assert.equal(job.eTag, before.job.eTag);

    const done = await batch.task.get('PersistJob', 'Done');
    assert.equal(done.state, 'completed');
    assert.equal(done.eTag, before.done.eTag);
    assert.equal(done.nodeInfo?.nodeId, before.done.nodeInfo?.nodeId);
    const doneOutput = await readStream((await batch.file.getFromTask('PersistJob', 'Done', 'stdout.txt')).readableStreamBody);
    assert.equal(doneOutput, 'finished before the restart\n');

    const interrupted = await waitForTaskState(batch, 'PersistJob', 'Interrupted', 'completed');
    assert.equal(interrupted.executionInfo?.result, 'success');
    assert.equal(interrupted.executionInfo?.requeueCount, 1, 'requeued, as when a node fails');
    assert.equal(interrupted.executionInfo?.retryCount, 0, 'a requeue is not a retry');
    const output = await readStream((await batch.file.getFromTask('PersistJob', 'Interrupted', 'stdout.txt')).readableStreamBody);
    assert.equal(output, 'second run\n');

    const later = await waitForTaskState(batch, 'PersistJob', 'Later', 'completed');
    assert.equal(later.executionInfo?.exitCode, 0);
    assert.deepEqual((await batch.task.list('PersistJob')).map((task) => task.id).sort(), ['Done', 'Interrupted', 'Later']);
  } finally {
    await second?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(ledger, { recursive: true, force: true });
  }
});
