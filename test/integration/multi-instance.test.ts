// Multi-instance tasks through @azure/batch, with real processes: all
// instances start at once on different nodes and run the coordination
// command, then the primary runs the application command with Batch's
// multi-instance environment; subtasks are listed by listSubtasks.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addPoolAndWait, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
const poolId = uniqueId('MpiPool');

before(async () => {
  server = await startTestServer();
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 3, enableInterNodeCommunication: true });
});

after(async () => {
  await server?.stop();
});

async function read(jobId: string, taskId: string, file: string): Promise<string> {
  return readStream((await server.batch.file.getFromTask(jobId, taskId, file)).readableStreamBody);
}

test('coordination runs on every instance, then the application on the primary', async () => {
  const jobId = uniqueId('Job');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, {
    id: 'mpi',
    commandLine: '/bin/bash -c "echo app master=$AZ_BATCH_IS_CURRENT_NODE_MASTER hosts=$AZ_BATCH_HOST_LIST; cat $AZ_BATCH_TASK_SHARED_DIR/coordinated"',
    multiInstanceSettings: {
      numberOfInstances: 3,
      coordinationCommandLine: '/bin/bash -c "echo coordinated master=$AZ_BATCH_IS_CURRENT_NODE_MASTER > $AZ_BATCH_TASK_SHARED_DIR/coordinated"',
    },
  });
  const task = await waitForTaskState(server.batch, jobId, 'mpi', 'completed');
  assert.equal(task.executionInfo?.result, 'success', JSON.stringify(task.executionInfo));
  assert.equal(await read(jobId, 'mpi', 'stdout.txt'), 'app master=true hosts=127.0.0.1,127.0.0.1,127.0.0.1\ncoordinated master=true\n');
  const subtasks = (await server.batch.task.listSubtasks(jobId, 'mpi')).value ?? [];
  assert.deepEqual(subtasks.map((subtask) => subtask.id), [1, 2]);
  const nodes = new Set([task.nodeInfo?.nodeId, ...subtasks.map((subtask) => subtask.nodeInfo?.nodeId)]);
  assert.equal(nodes.size, 3, 'each instance on its own node');
  for (const subtask of subtasks) {
    assert.equal(subtask.state, 'completed');
    assert.equal(subtask.result, 'success');
  }
});

test('a failed coordination command fails the task without running the application', async () => {
  const jobId = uniqueId('Job');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, {
    id: 'broken',
    commandLine: '/bin/bash -c "echo never > $AZ_BATCH_TASK_SHARED_DIR/app-ran"',
    multiInstanceSettings: { numberOfInstances: 2, coordinationCommandLine: '/bin/bash -c "[ $AZ_BATCH_IS_CURRENT_NODE_MASTER = true ] || exit 9"' },
  });
  const task = await waitForTaskState(server.batch, jobId, 'broken', 'completed');
  assert.equal(task.executionInfo?.result, 'failure');
  assert.equal(task.executionInfo?.exitCode, 9);
  const files = (await server.batch.file.listFromTask(jobId, 'broken', { recursive: true })).map((file) => file.name);
  assert.ok(!files.includes('app-ran'), files.join(','));
});

test('a task needing more instances than the pool has nodes waits', async () => {
  const jobId = uniqueId('Job');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, { id: 'too-wide', commandLine: '/bin/true', multiInstanceSettings: { numberOfInstances: 4, coordinationCommandLine: '/bin/true' } });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await server.batch.task.get(jobId, 'too-wide')).state, 'active');
  await server.batch.pool.resize(poolId, { targetDedicatedNodes: 4 });
  const task = await waitForTaskState(server.batch, jobId, 'too-wide', 'completed');
  assert.equal(task.executionInfo?.result, 'success');
});

test('daemons a coordination command leaves behind end with the task', async () => {
  const jobId = uniqueId('Job');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, {
    id: 'daemons',
    commandLine: '/bin/bash -c "sleep 0.3; cat $AZ_BATCH_TASK_SHARED_DIR/daemon.pid"',
    multiInstanceSettings: { numberOfInstances: 2, coordinationCommandLine: '/bin/bash -c "sleep 300 & echo $! > $AZ_BATCH_TASK_SHARED_DIR/daemon.pid"' },
  });
  const task = await waitForTaskState(server.batch, jobId, 'daemons', 'completed');
  assert.equal(task.executionInfo?.result, 'success');
  const pid = Number((await read(jobId, 'daemons', 'stdout.txt')).trim());
  assert.ok(pid > 1);
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 5000;
  while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(alive(), false, 'the daemon was ended with the task');
});
