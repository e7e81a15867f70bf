// The job manager task through @azure/batch, with real processes: added with
// the job, run first and (runExclusive) alone on its node; its completion
// terminates the job (killJobOnCompletion) unless told otherwise.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, batchError, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
const poolId = uniqueId('JmPool');

before(async () => {
  server = await startTestServer();
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, taskSlotsPerNode: 4 });
});

after(async () => {
  await server?.stop();
});

describe('job manager task', () => {
  test('is added with the job, runs alone on its node, and its completion ends the job', async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId }, jobManagerTask: { id: 'manager', commandLine: '/bin/sleep 0.5' } });
    const listed = await server.batch.task.list(jobId);
    assert.deepEqual(listed.map((task) => task.id), ['manager']);
    await server.batch.task.add(jobId, { id: 'worker', commandLine: '/bin/true' });
    await waitForTaskState(server.batch, jobId, 'manager', 'running');
    const [node] = await server.batch.computeNode.list(poolId);
    assert.equal(node?.runningTaskSlotsCount, 4, 'an exclusive job manager holds every slot');
    assert.equal((await server.batch.task.get(jobId, 'worker')).state, 'active', 'nothing else runs beside it');
    const job = await waitFor(async () => {
      const current = await server.batch.job.get(jobId);
      return current.state === 'completed' ? current : undefined;
    });
    assert.equal(job.executionInfo?.terminateReason, 'JMComplete');
    assert.equal((await server.batch.computeNode.list(poolId))[0]?.runningTaskSlotsCount, 0);
  });

  test('with killJobOnCompletion false the job stays; without runExclusive tasks run beside it', async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({
      id: jobId,
      poolInfo: { poolId },
      jobManagerTask: { id: 'jm', commandLine: '/bin/sleep 1', killJobOnCompletion: false, runExclusive: false },
    });
    await waitForTaskState(server.batch, jobId, 'jm', 'running');
    await server.batch.task.add(jobId, { id: 'beside', commandLine: '/bin/true' });
    await waitForTaskState(server.batch, jobId, 'beside', 'completed');
    assert.equal((await server.batch.task.get(jobId, 'jm')).state, 'running', 'the worker ran while the manager ran');
    await waitForTaskState(server.batch, jobId, 'jm', 'completed');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await server.batch.job.get(jobId)).state, 'active');
  });

  test('an invalid job manager task is refused with the job', async () => {
    const jobId = uniqueId('Job');
    await assert.rejects(
      server.batch.job.add({ id: jobId, poolInfo: { poolId }, jobManagerTask: { id: 'not valid!', commandLine: '/bin/true' } }),
      batchError('InvalidPropertyValue', 400),
    );
    await assert.rejects(server.batch.job.get(jobId), batchError('JobNotFound', 404));
  });
});
