// Issue 14 part 5, second half: the faults that act inside a node or on its
// capacity (startTaskHang, preemption, resourceFileFailure,
// outputFileFailure, taskFailure's details). Each is added through the HTTP
// API (FaultClient) and read through @azure/batch beside the real failure
// where one can be made: a blob or container that does not exist. The
// states, codes, messages, details and events must be the same.

import type { BatchServiceModels } from '@azure/batch';
import type { ContainerClient } from '@azure/storage-blob';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { lapisCli, refusal } from '../fixtures/fault-api.js';
import { DEV_ACCOUNT } from '../../src/config/config.js';
import { FAULT_KINDS } from '../../src/core/faults.js';
import { FaultClient } from '../../src/cli/fault-client.js';
import { addPoolAndWait, poolSpec, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';
import { sasUrl } from '../fixtures/container-workloads.js';

let server: TestServer;
let faults: FaultClient;
let poolId: string;

before(async () => {
  server = await startTestServer({ config: { faults: true } });
  faults = new FaultClient(server.batch, server.lapis.batchUrl);
  poolId = uniqueId('ParityPool');
  await addPoolAndWait(server.batch, poolId, { taskSlotsPerNode: 4 });
});

after(async () => {
  await server.stop();
});


async function newJob(prefix: string): Promise<string> {
  const id = uniqueId(prefix);
  await server.batch.job.add({ id, poolInfo: { poolId } });
  return id;
}

async function newContainer(): Promise<ContainerClient> {
  const container = server.blob.getContainerClient(uniqueId('fault').toLowerCase());
  await container.create();
  return container;
}

async function taskFile(jobId: string, taskId: string, file: string): Promise<string> {
  return readStream((await server.batch.file.getFromTask(jobId, taskId, file)).readableStreamBody);
}

/** What a failed task shows a client, with the details' URL as a pattern of names (the URLs differ by test). */
function failureView(task: BatchServiceModels.CloudTask) {
  const info = task.executionInfo;
  return {
    state: task.state,
    result: info?.result,
    exitCode: info?.exitCode,
    retryCount: info?.retryCount,
    category: info?.failureInfo?.category,
    code: info?.failureInfo?.code,
    message: info?.failureInfo?.message,
    detailNames: info?.failureInfo?.details?.map((detail) => detail.name),
  };
}

function detail(task: BatchServiceModels.CloudTask, name: string): string | undefined {
  return task.executionInfo?.failureInfo?.details?.find((each) => each.name === name)?.value;
}

function faultEvents(faultId: string) {
  return server.lapis.events.recent(DEV_ACCOUNT.name, 0).filter((event) => event.resource === 'fault' && event.detail?.faultId === faultId);
}

test('the kinds of fault are listed with a description each, from one catalogue', async () => {
  const kinds = await faults.kinds();
  assert.deepEqual(
    kinds.map((kind) => kind.type),
    FAULT_KINDS.map((kind) => kind.type),
  );
  for (const kind of kinds) assert.ok(kind.description.length > 10, kind.type);
  assert.ok(['startTaskHang', 'preemption', 'resourceFileFailure', 'outputFileFailure'].every((type) => kinds.some((kind) => kind.type === type)));
});

test('resourceFileFailure: the next download fails on the node as a blob that does not exist does (BlobNotFound, FilePath, ResourceUrl)', async () => {
  const container = await newContainer();
  await container.getBlockBlobClient('input.txt').upload('hello', 5);
  const jobId = await newJob('DownloadJob');
  await server.batch.task.add(jobId, { id: 'real', commandLine: '/bin/true', resourceFiles: [{ httpUrl: sasUrl(container, 'r', 'missing.txt'), filePath: 'in/input.txt' }] });
  const real = await waitForTaskState(server.batch, jobId, 'real', 'completed');

  const fault = await faults.add({ type: 'resourceFileFailure', jobId });
  assert.deepEqual({ code: fault.type === 'resourceFileFailure' ? fault.code : undefined, remaining: fault.remaining }, { code: 'BlobNotFound', remaining: 1 });
  const present = sasUrl(container, 'r', 'input.txt');
  await server.batch.task.add(jobId, { id: 'injected', commandLine: '/bin/cat in/input.txt', resourceFiles: [{ httpUrl: present, filePath: 'in/input.txt' }] });
  const injected = await waitForTaskState(server.batch, jobId, 'injected', 'completed');
  assert.deepEqual(failureView(injected), failureView(real));
  assert.deepEqual(failureView(injected), {
    state: 'completed',
    result: 'failure',
    exitCode: undefined,
    retryCount: 0,
    category: 'usererror',
    code: 'BlobNotFound',
    message: 'The specified blob does not exist.',
    detailNames: ['FilePath', 'ResourceUrl'],
  });
  assert.equal(detail(injected, 'FilePath'), 'in/input.txt');
  assert.equal(detail(injected, 'ResourceUrl'), present.replace(/sig=[^&]*/, 'sig=REDACTED'), 'the task’s own URL, its signature hidden as in a real failure');

  // Spent: the next task downloads its file and runs.
  await server.batch.task.add(jobId, { id: 'after', commandLine: '/bin/cat in/input.txt', resourceFiles: [{ httpUrl: present, filePath: 'in/input.txt' }] });
  assert.equal((await waitForTaskState(server.batch, jobId, 'after', 'completed')).executionInfo?.result, 'success');
  assert.equal(await taskFile(jobId, 'after', 'stdout.txt'), 'hello');
  assert.deepEqual(
    faultEvents(fault.id).map((event) => [event.change, event.jobId, event.taskId]),
    [
      ['added', jobId, undefined],
      ['fired', jobId, 'injected'],
    ],
  );
  const taskEvent = server.lapis.events.recent(DEV_ACCOUNT.name, 0).filter((event) => event.resource === 'task' && event.jobId === jobId && event.state === 'completed');
  assert.deepEqual(
    { ...taskEvent.find((event) => event.taskId === 'injected')?.detail, nodeId: undefined, runMs: undefined, queuedMs: undefined },
    { ...taskEvent.find((event) => event.taskId === 'real')?.detail, nodeId: undefined, runMs: undefined, queuedMs: undefined },
    'the same task event as the real failure',
  );
});

test('taskFailure with a resource file code carries the details the real failure does', async () => {
  const container = await newContainer();
  await container.getBlockBlobClient('data.bin').upload('x', 1);
  const jobId = await newJob('DetailsJob');
  await server.batch.task.add(jobId, { id: 'real', commandLine: '/bin/true', resourceFiles: [{ httpUrl: sasUrl(container, 'r', 'gone.bin'), filePath: 'data.bin' }] });
  const real = await waitForTaskState(server.batch, jobId, 'real', 'completed');
  await faults.add({ type: 'taskFailure', jobId, count: 2, failureInfo: { code: 'BlobNotFound' } });
  await server.batch.task.add(jobId, { id: 'injected', commandLine: '/bin/true', resourceFiles: [{ httpUrl: sasUrl(container, 'r', 'data.bin'), filePath: 'data.bin' }] });
  const injected = await waitForTaskState(server.batch, jobId, 'injected', 'completed');
  assert.deepEqual(failureView(injected), failureView(real));
  assert.equal(detail(injected, 'FilePath'), 'data.bin');
  // A task without resource files has no file to name: the code alone, with the message the real failure has.
  await server.batch.task.add(jobId, { id: 'nofiles', commandLine: '/bin/true' });
  const nofiles = await waitForTaskState(server.batch, jobId, 'nofiles', 'completed');
  assert.deepEqual(
    { code: nofiles.executionInfo?.failureInfo?.code, message: nofiles.executionInfo?.failureInfo?.message },
    { code: 'BlobNotFound', message: 'The specified blob does not exist.' },
  );
});

test('outputFileFailure: the next upload fails on the node as a container that does not exist does, with its upload logs', async () => {
  const container = await newContainer();
  const missing = server.blob.getContainerClient(uniqueId('missing').toLowerCase());
  const jobId = await newJob('UploadJob');
  const task = (id: string, containerUrl: string, exitCode = 3): BatchServiceModels.TaskAddParameter => ({
    id,
    commandLine: `/bin/sh -c "echo x > out.txt; exit ${exitCode}"`,
    outputFiles: [{ filePattern: '*.txt', destination: { container: { containerUrl, path: id } }, uploadOptions: { uploadCondition: 'taskcompletion' } }],
  });
  await server.batch.task.add(jobId, task('real', sasUrl(missing, 'w')));
  const real = await waitForTaskState(server.batch, jobId, 'real', 'completed');

  const fault = await faults.add({ type: 'outputFileFailure', jobId });
  await server.batch.task.add(jobId, task('injected', sasUrl(container, 'w')));
  const injected = await waitForTaskState(server.batch, jobId, 'injected', 'completed');
  assert.deepEqual(failureView(injected), failureView(real));
  assert.deepEqual(failureView(injected), {
    state: 'completed',
    result: 'failure',
    exitCode: 3,
    retryCount: 0,
    category: 'usererror',
    code: 'FileUploadContainerNotFound',
    message: 'One of the specified Azure container(s) was not found while attempting to upload an output file',
    detailNames: ['FilePattern', 'ContainerUrl'],
  });
  assert.equal(detail(injected, 'FilePattern'), '*.txt');
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat()) names.push(blob.name);
  assert.deepEqual(names, [], 'nothing was uploaded');
  for (const id of ['real', 'injected']) {
    const errors = JSON.parse((await taskFile(jobId, id, 'fileuploaderr.txt')).trim().split('\n')[0] ?? '{}') as Record<string, unknown>;
    assert.equal(errors.pattern, '*.txt', id);
    assert.match(String(errors.file), /\/wd\/out\.txt$/, id);
    assert.match(await taskFile(jobId, id, 'fileuploadout.txt'), /Upload finished with an error: FileUploadContainerNotFound/, id);
  }
  assert.equal(await taskFile(jobId, 'injected', 'wd/out.txt'), 'x\n', 'the command ran');

  await server.batch.task.add(jobId, task('after', sasUrl(container, 'w'), 0));
  assert.equal((await waitForTaskState(server.batch, jobId, 'after', 'completed')).executionInfo?.failureInfo, undefined, 'spent: the next upload goes through');
  assert.deepEqual(
    faultEvents(fault.id).map((event) => [event.change, event.taskId]),
    [
      ['added', undefined],
      ['fired', 'injected'],
    ],
  );
});

test('startTaskHang: the node stays waitingForStartTask with its start task running until the fault is removed; then it runs', async () => {
  const hungPool = uniqueId('HangPool');
  const fault = await faults.add({ type: 'startTaskHang', poolId: hungPool });
  await server.batch.pool.add(poolSpec(hungPool, { startTask: { commandLine: '/bin/sh -c "echo started"', waitForSuccess: true } }));
  const node = await waitFor(async () => (await server.batch.computeNode.list(hungPool)).find((each) => each.state === 'waitingforstarttask'), { what: 'the node waiting for its start task' });
  assert.equal(node.startTaskInfo?.state, 'running');
  // Another pool comes up meanwhile: scheduler passes have seen this node, and it still waits.
  await addPoolAndWait(server.batch, uniqueId('Unhung'));
  const waiting = await server.batch.computeNode.get(hungPool, node.id as string);
  assert.deepEqual({ state: waiting.state, startTask: waiting.startTaskInfo?.state, exitCode: waiting.startTaskInfo?.exitCode }, { state: 'waitingforstarttask', startTask: 'running', exitCode: undefined });
  assert.equal((await server.batch.account.listPoolNodeCounts()).find((counts) => counts.poolId === hungPool)?.dedicated?.waitingForStartTask, 1);

  await faults.remove(fault.id);
  const idle = await waitFor(async () => {
    const current = await server.batch.computeNode.get(hungPool, node.id as string);
    return current.state === 'idle' ? current : undefined;
  }, { what: 'the node idle once its start task ran' });
  assert.deepEqual({ state: idle.startTaskInfo?.state, result: idle.startTaskInfo?.result, exitCode: idle.startTaskInfo?.exitCode }, { state: 'completed', result: 'success', exitCode: 0 });
  assert.deepEqual(
    faultEvents(fault.id).map((event) => [event.change, event.nodeId]),
    [
      ['added', undefined],
      ['fired', node.id],
      ['deleted', undefined],
    ],
  );
});

test('startTaskHang: as in Batch a hung node cannot be rebooted, but removing it ends the hang; its replacement runs the start task', async () => {
  const hungPool = uniqueId('HangRemove');
  const fault = await faults.add({ type: 'startTaskHang', poolId: hungPool });
  await server.batch.pool.add(poolSpec(hungPool, { startTask: { commandLine: '/bin/true', waitForSuccess: true } }));
  const node = await waitFor(async () => (await server.batch.computeNode.list(hungPool)).find((each) => each.state === 'waitingforstarttask'), { what: 'the node waiting for its start task' });
  // Batch restarts only an idle or running node.
  await assert.rejects(server.batch.computeNode.reboot(hungPool, node.id as string), { code: 'NodeNotReady', statusCode: 409 });
  await server.batch.pool.removeNodes(hungPool, { nodeList: [node.id as string] });
  await waitFor(async () => ((await server.batch.pool.get(hungPool)).allocationState === 'steady' ? true : undefined), { what: 'the node removed' });
  await server.batch.pool.resize(hungPool, { targetDedicatedNodes: 1 });
  const replacement = await waitFor(async () => (await server.batch.computeNode.list(hungPool)).find((each) => each.state === 'idle'), { what: 'a replacement node idle' });
  assert.notEqual(replacement.id, node.id);
  assert.equal(replacement.startTaskInfo?.result, 'success');
  assert.equal((await faults.list()).find((each) => each.id === fault.id)?.remaining, 0);
  await faults.remove(fault.id);
});

test('preemption: a Spot node is preempted, its task requeued, and counted; when the capacity returns it is restored and runs the task', async () => {
  const spotPool = uniqueId('SpotPool');
  await addPoolAndWait(server.batch, spotPool, { targetDedicatedNodes: 0, targetLowPriorityNodes: 1 });
  const [node] = await server.batch.computeNode.list(spotPool);
  assert.equal(node?.isDedicated, false);
  const jobId = uniqueId('SpotJob');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId: spotPool } });
  await server.batch.task.add(jobId, { id: 'long', commandLine: '/bin/sleep 300' });
  await waitForTaskState(server.batch, jobId, 'long', 'running');
  const since = server.lapis.events.latestId();

  const fault = await faults.add({ type: 'preemption', poolId: spotPool });
  const preempted = await server.batch.computeNode.get(spotPool, node?.id as string);
  assert.deepEqual({ state: preempted.state, running: preempted.runningTasksCount }, { state: 'preempted', running: 0 });
  const task = await waitForTaskState(server.batch, jobId, 'long', 'active');
  assert.deepEqual({ requeueCount: task.executionInfo?.requeueCount, retryCount: task.executionInfo?.retryCount }, { requeueCount: 1, retryCount: 0 }, 'requeued, not retried');
  const pool = await server.batch.pool.get(spotPool);
  assert.deepEqual(
    { current: pool.currentLowPriorityNodes, target: pool.targetLowPriorityNodes, allocationState: pool.allocationState },
    { current: 1, target: 1, allocationState: 'steady' },
    'a preempted node still counts in currentLowPriorityNodes; the target is unchanged',
  );
  const counts = (await server.batch.account.listPoolNodeCounts()).find((each) => each.poolId === spotPool);
  assert.deepEqual({ preempted: counts?.lowPriority?.preempted, running: counts?.lowPriority?.running, total: counts?.lowPriority?.total }, { preempted: 1, running: 0, total: 1 });
  const events = server.lapis.events.recent(DEV_ACCOUNT.name, since);
  assert.ok(events.some((event) => event.resource === 'node' && event.nodeId === node?.id && event.state === 'preempted'), 'the node state event');
  assert.ok(events.some((event) => event.resource === 'task' && event.change === 'requeued' && event.jobId === jobId), 'the task requeued event');
  assert.deepEqual(
    faultEvents(fault.id).map((event) => [event.change, event.nodeId]),
    [
      ['added', undefined],
      ['fired', node?.id],
    ],
  );
  // Still preempted on a later pass: nothing runs on it.
  server.lapis.wake();
  assert.equal((await server.batch.task.get(jobId, 'long')).state, 'active');

  await faults.remove(fault.id);
  await waitForTaskState(server.batch, jobId, 'long', 'running');
  const restored = await server.batch.computeNode.get(spotPool, node?.id as string);
  assert.equal(restored.state, 'running');
  const restoredStates = server.lapis.events
    .recent(DEV_ACCOUNT.name, since)
    .filter((event) => event.resource === 'node' && event.change === 'state' && event.nodeId === node?.id)
    .map((event) => event.state);
  assert.deepEqual(restoredStates.slice(0, 3), ['preempted', 'starting', 'idle'], 'running straight to preempted, as Batch shows it');
  const preemptedEvent = server.lapis.events.recent(DEV_ACCOUNT.name, since).find((event) => event.resource === 'node' && event.state === 'preempted');
  assert.equal(preemptedEvent?.previousState, 'running');
  await server.batch.job.terminate(jobId);
});

test('preemption with a duration restores the node by itself; a dedicated node or a pool without Spot nodes is refused', async () => {
  const spotPool = uniqueId('SpotTimed');
  await addPoolAndWait(server.batch, spotPool, { targetDedicatedNodes: 1, targetLowPriorityNodes: 1 });
  const nodes = await server.batch.computeNode.list(spotPool);
  const dedicated = nodes.find((node) => node.isDedicated);
  const spot = nodes.find((node) => !node.isDedicated);
  const refused = await refusal(faults.add({ type: 'preemption', poolId: spotPool, nodeId: dedicated?.id as string }));
  assert.deepEqual({ status: refused.statusCode, code: refused.code }, { status: 400, code: 'InvalidPropertyValue' });
  assert.match(refused.message, /nodeId/);
  const noSpot = await refusal(faults.add({ type: 'preemption', poolId }));
  assert.match(noSpot.message, /poolId/);
  const noPool = await refusal(faults.add({ type: 'preemption', poolId: uniqueId('NoPool') }));
  assert.equal(noPool.code, 'PoolNotFound');
  assert.equal((await faults.list()).some((each) => each.type === 'preemption' && each.poolId === spotPool), false, 'nothing added');

  const since = server.lapis.events.latestId();
  await faults.add({ type: 'preemption', poolId: spotPool, nodeId: spot?.id as string, duration: 'PT1S' });
  await waitFor(
    async () =>
      server.lapis.events.recent(DEV_ACCOUNT.name, since).some((event) => event.resource === 'node' && event.nodeId === spot?.id && event.state === 'idle') ? true : undefined,
    { what: 'the spot node restored' },
  );
  const states = server.lapis.events
    .recent(DEV_ACCOUNT.name, since)
    .filter((event) => event.resource === 'node' && event.change === 'state')
    .map((event) => `${event.nodeId === spot?.id ? 'spot' : 'dedicated'}:${event.state}`);
  assert.deepEqual(states, ['spot:preempted', 'spot:starting', 'spot:idle'], 'the dedicated node is untouched');
});

test('a bad new fault is refused naming its field', async () => {
  const badCode = await refusal(faults.add({ type: 'resourceFileFailure', code: 'DiskOnFire' }));
  assert.deepEqual({ status: badCode.statusCode, code: badCode.code }, { status: 400, code: 'InvalidPropertyValue' });
  assert.match(badCode.message, /code/);
  const badCount = await refusal(faults.add({ type: 'startTaskHang', poolId: 'p', count: 0 }));
  assert.match(badCount.message, /count/);
  const badDuration = await refusal(faults.add({ type: 'preemption', poolId: 'p', duration: 'soon' }));
  assert.match(badDuration.message, /duration/);
  const stray = await refusal(faults.add({ type: 'outputFileFailure', exitCode: 3 } as never));
  assert.match(stray.message, /exitCode/);
});


test('faults aimed at runs survive a restart with what they have left; a node fault ends with the server', { timeout: 120_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-faults-'));
  const first = await startTestServer({ dataDir, config: { faults: true } });
  let second: TestServer | undefined;
  try {
    const firstFaults = new FaultClient(first.batch, first.lapis.batchUrl);
    const spotPool = uniqueId('RestartSpot');
    const jobId = uniqueId('RestartJob');
    await addPoolAndWait(first.batch, spotPool, { targetDedicatedNodes: 0, targetLowPriorityNodes: 1 });
    await first.batch.job.add({ id: jobId, poolInfo: { poolId: spotPool } });
    const counted = await firstFaults.add({ type: 'taskFailure', jobId, count: 2, failureInfo: { code: 'CommandLaunchFailed' } });
    await first.batch.task.add(jobId, { id: 'before', commandLine: '/bin/true' });
    assert.equal((await waitForTaskState(first.batch, jobId, 'before', 'completed')).executionInfo?.failureInfo?.code, 'CommandLaunchFailed');
    await firstFaults.add({ type: 'preemption', poolId: spotPool });
    await first.stop();

    second = await startTestServer({ dataDir, config: { faults: true } });
    const restarted = second;
    const restartedFaults = new FaultClient(restarted.batch, restarted.lapis.batchUrl);
    assert.deepEqual(
      (await restartedFaults.list()).map((fault) => [fault.id, fault.type, fault.remaining]),
      [[counted.id, 'taskFailure', 1]],
      'the counted fault with what it had left; the preemption ended with the server',
    );
    const restored = restarted.lapis.events.recent(DEV_ACCOUNT.name, 0).find((event) => event.resource === 'fault' && event.change === 'added');
    assert.deepEqual({ faultId: restored?.detail?.faultId, restored: restored?.detail?.restored }, { faultId: counted.id, restored: true });
    // The preempted node started again with the server, as every node does.
    await waitFor(async () => ((await restarted.batch.computeNode.list(spotPool)).every((node) => node.state === 'idle') ? true : undefined), { what: 'the node back' });
    await restarted.batch.task.add(jobId, { id: 'after', commandLine: '/bin/true' });
    assert.equal((await waitForTaskState(restarted.batch, jobId, 'after', 'completed')).executionInfo?.failureInfo?.code, 'CommandLaunchFailed');
    await restarted.batch.task.add(jobId, { id: 'free', commandLine: '/bin/true' });
    assert.equal((await waitForTaskState(restarted.batch, jobId, 'free', 'completed')).executionInfo?.result, 'success');
    await restartedFaults.remove(counted.id);
    await restarted.stop();
    second = await startTestServer({ dataDir, config: { faults: true } });
    assert.deepEqual(await new FaultClient(second.batch, second.lapis.batchUrl).list(), [], 'a removed fault stays removed');
  } finally {
    await second?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('lapis fault kinds, start-task-hang, preempt, resource-file-failure and output-file-failure send what the API reads', { timeout: 180_000 }, async () => {
  const kinds = await lapisCli(server, ['fault', 'kinds']);
  assert.equal(kinds.code, 0, kinds.stderr);
  assert.deepEqual(
    kinds.stdout.trim().split('\n').map((line) => line.split('\t')[0]),
    FAULT_KINDS.map((kind) => kind.type),
  );
  const added = async (args: string[]) => {
    const run = await lapisCli(server, ['fault', ...args]);
    assert.equal(run.code, 0, run.stderr);
    const fault = (await faults.list()).find((each) => each.id === run.stdout.trim());
    assert.ok(fault, run.stdout);
    await faults.remove(fault.id);
    const { id: _id, created: _created, ...rest } = fault;
    return rest;
  };
  assert.deepEqual(await added(['start-task-hang', 'CliHang', '--count', '2']), { type: 'startTaskHang', poolId: 'CliHang', count: 2, remaining: 2 });
  assert.deepEqual(await added(['resource-file-failure', '--job', 'CliJob', '--code', 'BlobAccessDenied']), {
    type: 'resourceFileFailure',
    jobId: 'CliJob',
    count: 1,
    code: 'BlobAccessDenied',
    remaining: 1,
  });
  assert.deepEqual(await added(['output-file-failure', '--pool', 'CliPool', '--count', '3']), {
    type: 'outputFileFailure',
    poolId: 'CliPool',
    count: 3,
    code: 'FileUploadContainerNotFound',
    remaining: 3,
  });
  const spotPool = uniqueId('CliSpot');
  await addPoolAndWait(server.batch, spotPool, { targetDedicatedNodes: 0, targetLowPriorityNodes: 1 });
  assert.deepEqual(await added(['preempt', spotPool, '--duration', 'PT1H']), { type: 'preemption', poolId: spotPool, duration: 'PT1H', durationMs: 3_600_000 });
  const refused = await lapisCli(server, ['fault', 'output-file-failure', '--code', 'Nope']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /InvalidPropertyValue: .*code/);
});
