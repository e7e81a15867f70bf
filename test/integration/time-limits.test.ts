// What Batch does when time runs out, through @azure/batch on a ShiftedClock:
// a job's maxWallClockTime terminates it (MaxWallClockTimeExpiry), and a
// task's retentionTime removes its directory (TaskFilesCleanedup).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addPoolAndWait, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { signedRequest } from '../../src/testkit/signed-request.js';
import { ShiftedClock, startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
const clock = new ShiftedClock();
const poolId = uniqueId('TimePool');

before(async () => {
  server = await startTestServer({ clock });
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, taskSlotsPerNode: 2 });
});

after(async () => {
  await server?.stop();
});

function advance(ms: number): void {
  clock.advance(ms);
  server.lapis.wake();
}

test('a job that outlives its maxWallClockTime is terminated and its running tasks end', async () => {
  const jobId = uniqueId('Job');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId }, constraints: { maxWallClockTime: 'PT1M' } });
  await server.batch.task.add(jobId, { id: 'long', commandLine: '/bin/sleep 60' });
  await waitForTaskState(server.batch, jobId, 'long', 'running');
  assert.equal((await server.batch.job.get(jobId)).state, 'active');
  advance(61_000);
  const job = await waitFor(async () => {
    const current = await server.batch.job.get(jobId);
    return current.state === 'completed' ? current : undefined;
  });
  assert.equal(job.executionInfo?.terminateReason, 'MaxWallClockTimeExpiry');
  const task = await server.batch.task.get(jobId, 'long');
  assert.equal(task.state, 'completed');
  assert.equal(task.executionInfo?.failureInfo?.code, 'TaskEnded');
});

test('a completed task\'s directory is removed when its retention time runs out', async () => {
  const jobId = uniqueId('Job');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, { id: 'brief', commandLine: '/bin/echo kept for a minute', constraints: { retentionTime: 'PT1M' } });
  await server.batch.task.add(jobId, { id: 'kept', commandLine: '/bin/echo kept for a week' });
  const brief = await waitForTaskState(server.batch, jobId, 'brief', 'completed');
  await waitForTaskState(server.batch, jobId, 'kept', 'completed');
  assert.equal((await server.batch.file.listFromTask(jobId, 'brief')).length > 0, true);
  advance(61_000);
  await waitFor(async () => {
    const response = await signedRequest(server, 'GET', `/jobs/${jobId}/tasks/brief/files`);
    return response.status === 409 && response.body.code === 'TaskFilesCleanedup' ? true : undefined;
  }, { what: 'the retention sweep' });
  const nodeId = brief.nodeInfo?.nodeId as string;
  const left = (await server.batch.file.listFromComputeNode(poolId, nodeId, { recursive: true })).map((file) => file.name);
  assert.ok(!left.some((name) => name?.includes('/brief')), 'the directory is gone from the node');
  assert.ok(left.some((name) => name?.endsWith('/kept/stdout.txt')), 'the other task keeps its files');
  assert.equal((await server.batch.task.get(jobId, 'brief')).state, 'completed', 'the task itself remains');
});
