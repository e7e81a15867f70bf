// A pool's start task through @azure/batch, with real processes: it runs on
// every node as it joins (and again after a reboot), waitForSuccess holds the
// node in waitingforstarttask, a failure after its retries leaves the node
// starttaskfailed and unschedulable, and startTaskInfo and startup/ files
// report what happened.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { poolSpec, readStream, uniqueId, waitForPoolSteady, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

async function nodesOf(poolId: string) {
  return server.batch.computeNode.list(poolId);
}

async function waitForNodes(poolId: string, state: string, count: number) {
  return waitFor(async () => {
    const nodes = await nodesOf(poolId);
    return nodes.length === count && nodes.every((node) => node.state === state) ? nodes : undefined;
  }, { what: `${count} nodes of ${poolId} to be ${state}` });
}

describe('pool start task', () => {
  test('runs on every node before it takes tasks; its output is under startup/', async () => {
    const poolId = uniqueId('Start');
    await server.batch.pool.add(
      poolSpec(poolId, {
        targetDedicatedNodes: 2,
        startTask: {
          commandLine: '/bin/bash -c "sleep 0.3; echo prepared $MARK > $AZ_BATCH_NODE_SHARED_DIR/ready.txt; echo started in $PWD"',
          environmentSettings: [{ name: 'MARK', value: 'by-start-task' }],
          waitForSuccess: true,
        },
      }),
    );
    const waiting = await waitFor(async () => {
      const nodes = await nodesOf(poolId);
      return nodes.some((node) => node.state === 'waitingforstarttask') ? nodes : undefined;
    });
    assert.ok(waiting.length > 0);
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'reader', commandLine: '/bin/bash -c "cat $AZ_BATCH_NODE_SHARED_DIR/ready.txt"' });
    const task = await waitForTaskState(server.batch, jobId, 'reader', 'completed');
    const output = await readStream((await server.batch.file.getFromTask(jobId, 'reader', 'stdout.txt')).readableStreamBody);
    assert.equal(output, 'prepared by-start-task\n', 'the task ran only after the start task succeeded');

    const nodes = await waitForNodes(poolId, 'idle', 2);
    for (const node of nodes) {
      assert.equal(node.startTaskInfo?.state, 'completed');
      assert.equal(node.startTaskInfo?.exitCode, 0);
      assert.equal(node.startTaskInfo?.result, 'success');
      assert.equal(node.startTaskInfo?.retryCount, 0);
      assert.match(node.startTask?.commandLine ?? '', /prepared/, 'the node reports the start task it ran');
    }
    const nodeId = task.nodeInfo?.nodeId as string;
    const startOut = await readStream((await server.batch.file.getFromComputeNode(poolId, nodeId, 'startup/stdout.txt')).readableStreamBody);
    assert.match(startOut, /started in .*\/startup\/wd/);
  });

  test('a failing start task is retried, then leaves the node starttaskfailed and unschedulable', async () => {
    const poolId = uniqueId('Broken');
    await server.batch.pool.add(
      poolSpec(poolId, { targetDedicatedNodes: 1, startTask: { commandLine: '/bin/sh -c "exit 7"', maxTaskRetryCount: 2, waitForSuccess: true } }),
    );
    const [node] = await waitForNodes(poolId, 'starttaskfailed', 1);
    assert.equal(node?.startTaskInfo?.exitCode, 7);
    assert.equal(node?.startTaskInfo?.retryCount, 2);
    assert.equal(node?.startTaskInfo?.result, 'failure');
    assert.equal(node?.startTaskInfo?.failureInfo?.code, 'FailureExitCode');
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'never', commandLine: '/bin/true' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await server.batch.task.get(jobId, 'never')).state, 'active');
    const counts = (await server.batch.account.listPoolNodeCounts()).find((entry) => entry.poolId === poolId);
    assert.equal(counts?.dedicated?.startTaskFailed, 1);
  });

  test('without waitForSuccess the node takes tasks at once, and a failure leaves it usable', async () => {
    const poolId = uniqueId('NoWait');
    await server.batch.pool.add(poolSpec(poolId, { targetDedicatedNodes: 1, startTask: { commandLine: '/bin/sh -c "sleep 0.5; exit 3"', waitForSuccess: false } }));
    await waitForPoolSteady(server.batch, poolId);
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'early', commandLine: '/bin/true' });
    await waitForTaskState(server.batch, jobId, 'early', 'completed');
    const node = await waitFor(async () => {
      const [current] = await nodesOf(poolId);
      return current?.startTaskInfo?.state === 'completed' ? current : undefined;
    });
    assert.equal(node.startTaskInfo?.result, 'failure');
    assert.equal(node.state, 'idle');
  });

  test('a reboot runs the start task again', async () => {
    const poolId = uniqueId('Again');
    await server.batch.pool.add(poolSpec(poolId, { targetDedicatedNodes: 1, startTask: { commandLine: '/bin/bash -c "echo run >> $AZ_BATCH_NODE_SHARED_DIR/runs.txt"' } }));
    const [node] = await waitForNodes(poolId, 'idle', 1);
    const firstStart = node?.startTaskInfo?.startTime as Date;
    await server.batch.computeNode.reboot(poolId, node?.id as string);
    await waitFor(async () => {
      const current = await server.batch.computeNode.get(poolId, node?.id as string);
      return current.state === 'idle' && (current.startTaskInfo?.startTime as Date) > firstStart ? true : undefined;
    });
    const runs = await readStream((await server.batch.file.getFromComputeNode(poolId, node?.id as string, 'shared/runs.txt')).readableStreamBody);
    assert.equal(runs, 'run\nrun\n');
  });
});
