// ComputeNode.recentTasks through @azure/batch: a node lists the tasks that
// ran on it with their states, exit codes and URLs; a node no task ran on
// lists none; a reboot keeps the list (Batch keeps it while the node is in
// its pool), and so does a restart of the server. Subtasks of
// multi-instance tasks: multi-instance.test.ts.

import type { BatchServiceModels } from '@azure/batch';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addPoolAndWait, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
const poolId = uniqueId('RecentPool');

before(async () => {
  server = await startTestServer();
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 2, taskSlotsPerNode: 4, taskSchedulingPolicy: { nodeFillType: 'pack' } });
});

after(async () => {
  await server?.stop();
});

function recentOf(node: BatchServiceModels.ComputeNode, jobId: string): Map<string, BatchServiceModels.TaskInformation> {
  return new Map((node.recentTasks ?? []).filter((entry) => entry.jobId === jobId).map((entry) => [entry.taskId ?? '', entry]));
}

test("a node lists the tasks it ran: running ones as running, ended ones with their exit code; the other node lists none", { timeout: 90_000 }, async () => {
  const jobId = uniqueId('Job');
  // Four slots a node, filled by pack: all three tasks go to one node.
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.addCollection(jobId, [
    { id: 'ok', commandLine: '/bin/true' },
    { id: 'fails', commandLine: '/bin/sh -c "exit 3"' },
    { id: 'sleeps', commandLine: '/bin/sleep 60' },
  ]);
  await waitForTaskState(server.batch, jobId, 'ok', 'completed');
  await waitForTaskState(server.batch, jobId, 'fails', 'completed');
  const sleeping = await waitForTaskState(server.batch, jobId, 'sleeps', 'running');
  const nodeId = sleeping.nodeInfo?.nodeId ?? '';

  const node = await server.batch.computeNode.get(poolId, nodeId);
  const recent = recentOf(node, jobId);
  const running = recent.get('sleeps');
  assert.equal(running?.taskState, 'running');
  assert.equal(running?.taskUrl, sleeping.url);
  assert.equal(running?.executionInfo?.startTime?.toISOString(), sleeping.executionInfo?.startTime?.toISOString());
  assert.equal(running?.executionInfo?.exitCode, undefined);
  for (const [taskId, exitCode, result] of [['ok', 0, 'success'], ['fails', 3, 'failure']] as const) {
    assert.equal((await server.batch.task.get(jobId, taskId)).nodeInfo?.nodeId, nodeId, 'packed on one node');
    const entry = recent.get(taskId);
    assert.equal(entry?.taskState, 'completed', taskId);
    assert.equal(entry?.executionInfo?.exitCode, exitCode, taskId);
    assert.equal(entry?.executionInfo?.result, result, taskId);
  }
  const other = (await server.batch.computeNode.list(poolId)).find((each) => each.id !== nodeId);
  assert.ok(other, 'the pool has a second node');
  assert.equal(other.recentTasks, undefined, 'a node no task ran on lists none');

  // $select answers it alone; the task's end shows on the node.
  const selected = await server.batch.computeNode.get(poolId, nodeId, { computeNodeGetOptions: { select: 'id,recentTasks' } });
  assert.equal(selected.state, undefined);
  assert.ok(recentOf(selected, jobId).has('sleeps'));
  await server.batch.task.terminate(jobId, 'sleeps');
  const ended = await waitFor(async () => {
    const entry = recentOf(await server.batch.computeNode.get(poolId, nodeId), jobId).get('sleeps');
    return entry?.taskState === 'completed' ? entry : undefined;
  }, { what: 'the terminated task to show as completed on its node' });
  assert.equal(ended.executionInfo?.result, 'failure');
  assert.equal(ended.executionInfo?.failureInfo?.code, 'TaskEnded');

  // A reboot keeps the list.
  await server.batch.computeNode.reboot(poolId, nodeId);
  const rebooted = await waitFor(async () => {
    const each = await server.batch.computeNode.get(poolId, nodeId);
    return each.state === 'idle' ? each : undefined;
  }, { what: 'the node to be back from its reboot', timeoutMs: 60_000 });
  const kept = recentOf(rebooted, jobId);
  assert.deepEqual([...kept.keys()].sort(), ['fails', 'ok', 'sleeps']);
  assert.equal(kept.get('fails')?.executionInfo?.exitCode, 3);
});

test('a restart of the server keeps the list; the run it requeued shows as such', { timeout: 90_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-recent-'));
  let restarted: TestServer | undefined;
  const first = await startTestServer({ dataDir });
  try {
    const pool = uniqueId('Pool');
    const jobId = uniqueId('Job');
    await addPoolAndWait(first.batch, pool, { taskSlotsPerNode: 2 });
    await first.batch.job.add({ id: jobId, poolInfo: { poolId: pool } });
    await first.batch.task.addCollection(jobId, [
      { id: 'fails', commandLine: '/bin/sh -c "exit 4"' },
      { id: 'sleeps', commandLine: '/bin/sleep 60' },
    ]);
    await waitForTaskState(first.batch, jobId, 'fails', 'completed');
    const sleeping = await waitForTaskState(first.batch, jobId, 'sleeps', 'running');
    await first.stop();
    restarted = await startTestServer({ dataDir });
    const node = await restarted.batch.computeNode.get(pool, sleeping.nodeInfo?.nodeId ?? '');
    const recent = recentOf(node, jobId);
    assert.equal(recent.get('fails')?.executionInfo?.exitCode, 4);
    const requeued = recent.get('sleeps');
    assert.ok(requeued, 'the requeued task is listed');
    assert.equal(requeued.executionInfo?.requeueCount, 1, 'its entry is the requeued run (or its next one)');
  } finally {
    await restarted?.stop();
    await first.stop().catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
