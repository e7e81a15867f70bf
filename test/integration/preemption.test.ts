// allowTaskPreemption through @azure/batch: a higher-priority job's task
// takes the slot of a running task of a lower-priority job that allows
// preemption; the preempted task is requeued (not retried) and runs later.
// Jobs that do not allow it are never preempted.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addPoolAndWait, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

test('a higher-priority task preempts a preemptible one; the preempted task is requeued and runs again', async () => {
  const poolId = uniqueId('Preempt');
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
  const low = uniqueId('Low');
  const high = uniqueId('High');
  await server.batch.job.add({ id: low, poolInfo: { poolId }, priority: 0, allowTaskPreemption: true });
  await server.batch.task.add(low, { id: 'background', commandLine: '/bin/sleep 1' });
  await waitForTaskState(server.batch, low, 'background', 'running');
  await server.batch.job.add({ id: high, poolInfo: { poolId }, priority: 500 });
  await server.batch.task.add(high, { id: 'urgent', commandLine: '/bin/true' });
  const urgent = await waitForTaskState(server.batch, high, 'urgent', 'completed');
  assert.equal(urgent.executionInfo?.result, 'success');
  const background = await waitForTaskState(server.batch, low, 'background', 'completed');
  assert.equal(background.executionInfo?.requeueCount, 1);
  assert.equal(background.executionInfo?.retryCount, 0);
  assert.ok((background.executionInfo?.startTime as Date) >= (urgent.executionInfo?.startTime as Date), 'it ran again after the urgent task');
});

test('a job that does not allow preemption keeps its slot', async () => {
  const poolId = uniqueId('Keep');
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
  const low = uniqueId('Low');
  const high = uniqueId('High');
  await server.batch.job.add({ id: low, poolInfo: { poolId }, priority: 0 });
  await server.batch.task.add(low, { id: 'steady', commandLine: '/bin/sleep 0.5' });
  await waitForTaskState(server.batch, low, 'steady', 'running');
  await server.batch.job.add({ id: high, poolInfo: { poolId }, priority: 500 });
  await server.batch.task.add(high, { id: 'waits', commandLine: '/bin/true' });
  const steady = await waitForTaskState(server.batch, low, 'steady', 'completed');
  assert.equal(steady.executionInfo?.requeueCount, 0);
  const waits = await waitForTaskState(server.batch, high, 'waits', 'completed');
  assert.ok((waits.executionInfo?.startTime as Date) >= (steady.executionInfo?.endTime as Date));
});
