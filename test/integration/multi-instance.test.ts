// Multi-instance tasks through @azure/batch, with real processes: all
// instances start at once on different nodes and run the coordination
// command, then the primary runs the application command with Batch's
// multi-instance environment; subtasks are listed by listSubtasks.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addPoolAndWait, isAlive, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

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
  // Each node lists the instance it ran in recentTasks, by subtaskId (0, the primary, on the task's node).
  const listed = new Map<number | undefined, string | undefined>();
  for (const node of await server.batch.computeNode.list(poolId)) {
    for (const entry of node.recentTasks ?? []) {
      if (entry.jobId !== jobId) continue;
      assert.equal(entry.taskState, 'completed');
      assert.equal(entry.executionInfo?.result, 'success');
      listed.set(entry.subtaskId, node.id);
    }
  }
  assert.deepEqual([...listed.keys()].sort(), [0, 1, 2]);
  assert.equal(listed.get(0), task.nodeInfo?.nodeId);
  for (const subtask of subtasks) assert.equal(listed.get(subtask.id), subtask.nodeInfo?.nodeId);
});

test("commonResourceFiles go to the task directory ($AZ_BATCH_TASK_SHARED_DIR) on every instance, the task's own resourceFiles to wd/", async () => {
  const container = server.blob.getContainerClient(uniqueId('common').toLowerCase());
  await container.create();
  for (const [name, text] of [
    ['coordinate.sh', 'echo coordinated > "$AZ_BATCH_TASK_SHARED_DIR/ran-$AZ_BATCH_IS_CURRENT_NODE_MASTER"\n'],
    ['input.txt', 'input\n'],
  ] as const) {
    await container.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
  }
  const jobId = uniqueId('Job');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, {
    id: 'common',
    // As Microsoft's samples do: the coordination command runs a script from the task directory by its relative path from wd/.
    commandLine: '/bin/bash -c "cat $AZ_BATCH_TASK_SHARED_DIR/ran-true input.txt; test ! -e coordinate.sh || echo common file in wd"',
    resourceFiles: [{ autoStorageContainerName: container.containerName, blobPrefix: 'input.txt' }],
    multiInstanceSettings: {
      numberOfInstances: 2,
      coordinationCommandLine: '/bin/bash ../coordinate.sh',
      commonResourceFiles: [{ autoStorageContainerName: container.containerName, blobPrefix: 'coordinate.sh' }],
    },
  });
  const task = await waitForTaskState(server.batch, jobId, 'common', 'completed');
  assert.equal(task.executionInfo?.result, 'success', JSON.stringify(task.executionInfo));
  assert.equal(await read(jobId, 'common', 'stdout.txt'), 'coordinated\ninput\n');
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
  const alive = () => isAlive(pid);
  const deadline = Date.now() + 5000;
  while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(alive(), false, 'the daemon was ended with the task');
});

/** Starts a two-instance task whose instances each leave a daemon, and waits until the application runs; returns the daemons' pids by node. */
async function startTaskWithDaemons(jobId: string, taskId: string): Promise<{ primary: string; subtask: string; pids: number[] }> {
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, {
    id: taskId,
    commandLine: '/bin/bash -c "sleep 300"',
    multiInstanceSettings: { numberOfInstances: 2, coordinationCommandLine: '/bin/bash -c "sleep 300 & echo $! > $AZ_BATCH_TASK_SHARED_DIR/daemon.pid"' },
  });
  const task = await waitForTaskState(server.batch, jobId, taskId, 'running');
  const primary = task.nodeInfo?.nodeId as string;
  const subtask = await waitFor(async () => (await server.batch.task.listSubtasks(jobId, taskId)).value?.[0]?.nodeInfo?.nodeId);
  const directory = task.nodeInfo?.taskRootDirectory as string;
  const pids = await waitFor(async () => {
    const read = async (nodeId: string) => Number((await readStream((await server.batch.file.getFromComputeNode(poolId, nodeId, `${directory}/daemon.pid`)).readableStreamBody)).trim());
    const found = [await read(primary), await read(subtask)];
    return found.every((pid) => pid > 1) ? found : undefined;
  });
  return { primary, subtask, pids };
}

async function waitForDeath(pids: number[]): Promise<void> {
  await waitFor(() => (pids.some(isAlive) ? undefined : true), { what: `processes ${pids.join(', ')} to end` });
}

test('a multi-instance task requeued by removing its subtask node stops its processes on every node', async () => {
  const jobId = uniqueId('Job');
  const { subtask, pids } = await startTaskWithDaemons(jobId, 'requeued');
  assert.ok(pids.every(isAlive));
  await server.batch.pool.removeNodes(poolId, { nodeList: [subtask], nodeDeallocationOption: 'requeue' });
  await waitFor(async () => ((await server.batch.task.get(jobId, 'requeued')).executionInfo?.requeueCount === 1 ? true : undefined));
  await waitForDeath(pids);
  await server.batch.job.terminate(jobId);
});

test('a multi-instance task requeued by disabling its job stops its processes on every node', async () => {
  const jobId = uniqueId('Job');
  const { pids } = await startTaskWithDaemons(jobId, 'disabled');
  await server.batch.job.disable(jobId, 'requeue');
  const task = await waitForTaskState(server.batch, jobId, 'disabled', 'active');
  assert.equal(task.executionInfo?.requeueCount, 1);
  await waitForDeath(pids);
  await server.batch.job.terminate(jobId);
});
