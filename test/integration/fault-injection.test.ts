// Issue 14 part 5: failure injection (lapis serve --faults). Each fault is
// added through the HTTP API (FaultClient, as `lapis fault` sends it) and
// what it causes is read through @azure/batch, beside the real failure it
// stands for where one can be made: the states, codes and events must be the same.
// The API itself: refused without --faults, and each account sees and ends only its own faults.

import type { BatchServiceClient } from '@azure/batch';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { lapisCli, refusal } from '../fixtures/fault-api.js';
import { DEV_ACCOUNT } from '../../src/config/config.js';
import { FaultClient } from '../../src/cli/fault-client.js';
import { addPoolAndWait, poolSpec, readStream, uniqueId, waitForPoolSteady, waitForTaskState } from '../../src/testkit/builders.js';
import { signedRequest } from '../../src/testkit/signed-request.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

const OTHER = { name: 'otheraccount', key: Buffer.from('another account key, 32 bytes!!').toString('base64') };

let server: TestServer;
let faults: FaultClient;
let other: BatchServiceClient;

before(async () => {
  server = await startTestServer({ config: { faults: true, nodeHeartbeatTimeoutMs: 1_000, accounts: [DEV_ACCOUNT, OTHER] } });
  faults = new FaultClient(server.batch, server.lapis.batchUrl);
  other = server.batchClientFor(OTHER.name, OTHER.key);
});

after(async () => {
  await server.stop();
});


async function nodeOf(poolId: string, state?: string) {
  return waitFor(async () => (await server.batch.computeNode.list(poolId)).find((node) => state === undefined || node.state === state), {
    what: `a node of ${poolId}${state ? ` ${state}` : ''}`,
  });
}

/** A one-node pool whose node runs task `long` (a sleep) of a job on it. */
async function nodeRunningALongTask(prefix: string) {
  const poolId = uniqueId(`${prefix}Pool`);
  const jobId = uniqueId(`${prefix}Job`);
  await addPoolAndWait(server.batch, poolId);
  const node = await nodeOf(poolId, 'idle');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, { id: 'long', commandLine: '/bin/sleep 300' });
  await waitForTaskState(server.batch, jobId, 'long', 'running');
  return { poolId, jobId, node };
}

/** What a start task's failure shows a client, without its times. */
function startTaskView(node: Awaited<ReturnType<typeof nodeOf>>) {
  const info = node.startTaskInfo;
  return {
    state: node.state,
    startTaskState: info?.state,
    exitCode: info?.exitCode,
    result: info?.result,
    retryCount: info?.retryCount,
    failureCategory: info?.failureInfo?.category,
    failureCode: info?.failureInfo?.code,
  };
}

test('startTaskFailure: the next start task on the pool fails as a real one exiting with that code does (starttaskfailed, FailureExitCode)', async () => {
  const real = uniqueId('RealStartFail');
  const injected = uniqueId('InjectedStartFail');
  const fault = await faults.add({ type: 'startTaskFailure', poolId: injected, exitCode: 3 });
  assert.equal(fault.remaining, 1);
  await server.batch.pool.add(poolSpec(real, { startTask: { commandLine: "/bin/sh -c 'exit 3'", waitForSuccess: true } }));
  await server.batch.pool.add(poolSpec(injected, { startTask: { commandLine: "/bin/sh -c 'exit 0'", waitForSuccess: true } }));
  const realNode = await nodeOf(real, 'starttaskfailed');
  const injectedNode = await nodeOf(injected, 'starttaskfailed');
  assert.deepEqual(startTaskView(injectedNode), startTaskView(realNode));
  assert.deepEqual(startTaskView(injectedNode), {
    state: 'starttaskfailed',
    startTaskState: 'completed',
    exitCode: 3,
    result: 'failure',
    retryCount: 0,
    failureCategory: 'usererror',
    failureCode: 'FailureExitCode',
  });
  assert.equal((await faults.list()).find((each) => each.id === fault.id)?.remaining, 0, 'the fault is spent');

  // Spent: a second node's start task runs for real, and succeeds.
  await server.batch.pool.resize(injected, { targetDedicatedNodes: 2 });
  await nodeOf(injected, 'idle');
  const events = server.lapis.events.recent(DEV_ACCOUNT.name, 0).filter((event) => event.resource === 'node' && event.change === 'state');
  const failedEvent = (poolId: string) => events.find((event) => event.poolId === poolId && event.state === 'starttaskfailed');
  assert.deepEqual({ ...failedEvent(injected)?.detail }, { ...failedEvent(real)?.detail }, 'the same event detail as the real failure');
});

test('taskFailure: the next N task launches fail with the chosen code, as a task whose command cannot launch does', async () => {
  const poolId = uniqueId('TaskFailPool');
  const jobId = uniqueId('TaskFailJob');
  await addPoolAndWait(server.batch, poolId);
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  // A command line that cannot be split fails with CommandLaunchFailed before anything runs.
  await server.batch.task.add(jobId, { id: 'real', commandLine: '/bin/sh -c "unterminated', constraints: { maxTaskRetryCount: 2 } });
  const real = await waitForTaskState(server.batch, jobId, 'real', 'completed');
  assert.equal(real.executionInfo?.failureInfo?.code, 'CommandLaunchFailed');

  const fault = await faults.add({ type: 'taskFailure', jobId, count: 2, failureInfo: { category: 'usererror', code: 'CommandLaunchFailed', message: 'injected' } });
  for (const id of ['first', 'second', 'third']) {
    await server.batch.task.add(jobId, { id, commandLine: '/bin/true', constraints: { maxTaskRetryCount: 2 } });
    await waitForTaskState(server.batch, jobId, id, 'completed');
  }
  const view = async (id: string) => {
    const task = await server.batch.task.get(jobId, id);
    return {
      state: task.state,
      result: task.executionInfo?.result,
      exitCode: task.executionInfo?.exitCode,
      retryCount: task.executionInfo?.retryCount,
      category: task.executionInfo?.failureInfo?.category,
      code: task.executionInfo?.failureInfo?.code,
    };
  };
  assert.deepEqual(await view('first'), await view('real'));
  assert.deepEqual(await view('second'), await view('real'));
  assert.deepEqual(await view('third'), { state: 'completed', result: 'success', exitCode: 0, retryCount: 0, category: undefined, code: undefined });
  assert.equal((await faults.list()).find((each) => each.id === fault.id)?.remaining, 0);
  const faultEvents = server.lapis.events.recent(DEV_ACCOUNT.name, 0).filter((event) => event.resource === 'fault' && event.detail?.faultId === fault.id);
  assert.deepEqual(
    faultEvents.map((event) => [event.change, event.taskId, event.detail?.remaining]),
    [
      ['added', undefined, 2],
      ['fired', 'first', 1],
      ['fired', 'second', 0],
    ],
    'an event when added and each time it fires',
  );
  const counts = await server.batch.job.getTaskCounts(jobId);
  assert.equal(counts.taskCounts.failed, 3);
  assert.equal(counts.taskCounts.succeeded, 1);
});

test('nodeUnusable: the node goes unknown, its running task is requeued, then unusable; removing it lets the pool heal', async () => {
  const { poolId, jobId, node } = await nodeRunningALongTask('Unusable');

  await faults.add({ type: 'nodeUnusable', poolId, nodeId: node.id as string });
  await nodeOf(poolId, 'unusable');
  const task = await waitForTaskState(server.batch, jobId, 'long', 'active');
  assert.equal(task.executionInfo?.requeueCount, 1, 'requeued, not failed');
  assert.equal(task.executionInfo?.retryCount, 0);

  const nodeStates = server.lapis.events
    .recent(DEV_ACCOUNT.name, 0)
    .filter((event) => event.resource === 'node' && event.change === 'state' && event.nodeId === node.id)
    .map((event) => event.state);
  assert.deepEqual(nodeStates.slice(-2), ['unknown', 'unusable']);
  const requeued = server.lapis.events.recent(DEV_ACCOUNT.name, 0).find((event) => event.resource === 'task' && event.change === 'requeued' && event.jobId === jobId);
  assert.ok(requeued, 'a task requeued event');

  await server.batch.pool.removeNodes(poolId, { nodeList: [node.id as string] });
  await waitForPoolSteady(server.batch, poolId);
  await server.batch.pool.resize(poolId, { targetDedicatedNodes: 1 });
  await waitForTaskState(server.batch, jobId, 'long', 'running');
  await server.batch.job.terminate(jobId);
});

test('heartbeatLoss: the node is unknown and its task requeued while unheard; heard again (fault ended or elapsed), it is back in service', async () => {
  const { poolId, jobId, node } = await nodeRunningALongTask('Silent');
  const since = server.lapis.events.latestId();
  const requeuedTimes = (count: number) =>
    waitFor(async () => {
      const task = await server.batch.task.get(jobId, 'long');
      return (task.executionInfo?.requeueCount ?? 0) >= count ? task : undefined;
    }, { what: `the task to be requeued ${count} time(s)` });
  const backInService = () =>
    waitFor(async () => {
      const task = await server.batch.task.get(jobId, 'long');
      return task.state === 'running' && (await server.batch.computeNode.get(poolId, node.id as string)).state === 'running' ? task : undefined;
    }, { what: 'the node back in service running the task' });

  const fault = await faults.add({ type: 'heartbeatLoss', poolId, nodeId: node.id as string, duration: 'PT1H' });
  const requeued = await requeuedTimes(1);
  assert.equal(requeued.executionInfo?.retryCount, 0, 'a lost node costs no retry');
  assert.equal(requeued.state, 'active');
  assert.equal((await server.batch.computeNode.get(poolId, node.id as string)).state, 'unknown');
  await faults.remove(fault.id);
  await backInService();

  // A fault that elapses ends the same way.
  await faults.add({ type: 'heartbeatLoss', poolId, nodeId: node.id as string, duration: 'PT2S' });
  await requeuedTimes(2);
  await backInService();
  const states = server.lapis.events
    .recent(DEV_ACCOUNT.name, since)
    .filter((event) => event.resource === 'node' && event.change === 'state' && event.nodeId === node.id)
    .map((event) => event.state);
  assert.equal(states.filter((state) => state === 'unknown').length, 2, `unknown once per fault: ${states.join(', ')}`);
  assert.ok(!states.includes('unusable'), 'and never unusable');
  await server.batch.job.terminate(jobId);
});

test('allocationDelay: the pool stays resizing with its node starting while the delay lasts; ending the fault lets it finish', async () => {
  const poolId = uniqueId('DelayPool');
  const fault = await faults.add({ type: 'allocationDelay', poolId, duration: 'PT1H' });
  assert.equal(fault.durationMs, 3_600_000);
  await server.batch.pool.add(poolSpec(poolId));
  const node = await nodeOf(poolId);
  // The other pools' nodes come and go meanwhile: a pass of the scheduler has seen this one.
  await addPoolAndWait(server.batch, uniqueId('Undelayed'));
  assert.equal((await server.batch.computeNode.get(poolId, node.id as string)).state, 'starting');
  assert.equal((await server.batch.pool.get(poolId)).allocationState, 'resizing');
  await faults.remove(fault.id);
  await nodeOf(poolId, 'idle');
  assert.equal((await server.batch.pool.get(poolId)).allocationState, 'steady');
});

test('a fault request with a bad field is refused naming it, and adds nothing', async () => {
  const before = (await faults.list()).length;
  const missing = await refusal(faults.add({ type: 'taskFailure', failureInfo: {} } as never));
  assert.equal(missing.statusCode, 400);
  assert.equal(missing.code, 'MissingRequiredProperty');
  assert.match(missing.message, /failureInfo\.code/);
  const badType = await refusal(faults.add({ type: 'meteorStrike' } as never));
  assert.equal(badType.code, 'InvalidPropertyValue');
  const badDuration = await refusal(faults.add({ type: 'allocationDelay', poolId: 'p', duration: '30 seconds' }));
  assert.match(badDuration.message, /duration/);
  const noNode = await refusal(faults.add({ type: 'nodeUnusable', poolId: uniqueId('NoPool'), nodeId: 'tvmps_x_d' }));
  assert.equal(noNode.statusCode, 404);
  assert.equal(noNode.code, 'PoolNotFound');
  assert.equal((await faults.list()).length, before);
});

test("an account sees and ends only its own faults, and cannot aim one at another account's node", async () => {
  const otherFaults = new FaultClient(other, server.lapis.batchUrl);
  const mine = await faults.add({ type: 'allocationDelay', poolId: 'SomePool', duration: 'PT1S' });
  assert.equal((await otherFaults.list()).some((each) => each.id === mine.id), false);
  const notFound = await refusal(otherFaults.remove(mine.id));
  assert.equal(notFound.statusCode, 404);
  assert.ok((await faults.list()).some((each) => each.id === mine.id), 'still there');

  const poolId = uniqueId('OwnedPool');
  await addPoolAndWait(server.batch, poolId);
  const node = await nodeOf(poolId, 'idle');
  const elsewhere = await refusal(otherFaults.add({ type: 'nodeUnusable', poolId, nodeId: node.id as string }));
  assert.equal(elsewhere.code, 'PoolNotFound');
  await faults.remove(mine.id);
  assert.equal((await faults.list()).some((each) => each.id === mine.id), false);
});


test('lapis fault adds (printing the id), lists and removes faults through the API, and says why one is refused', { timeout: 180_000 }, async () => {
  const jobId = uniqueId('CliFaultJob');
  const added = await lapisCli(server, ['fault', 'task-failure', '--code', 'ResourceFileDownloadFailed', '--category', 'servererror', '--job', jobId, '--count', '2']);
  assert.equal(added.code, 0, added.stderr);
  const id = added.stdout.trim();
  const fault = (await faults.list()).find((each) => each.id === id);
  assert.deepEqual(
    fault?.type === 'taskFailure' ? { type: fault.type, jobId: fault.jobId, remaining: fault.remaining, failureInfo: fault.failureInfo } : fault,
    { type: 'taskFailure', jobId, remaining: 2, failureInfo: { category: 'servererror', code: 'ResourceFileDownloadFailed', message: 'The task could not be started (injected).' } },
  );
  const listed = await lapisCli(server, ['fault', 'list']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(listed.stdout.split('\n').some((line) => line.includes(`"id":"${id}"`)), listed.stdout);
  const removed = await lapisCli(server, ['fault', 'remove', id]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal((await faults.list()).some((each) => each.id === id), false);

  const refused = await lapisCli(server, ['fault', 'allocation-delay', 'SomePool', '30 seconds']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /InvalidPropertyValue: .*duration/);

  const startTask = await lapisCli(server, ['fault', 'start-task-failure', 'CliStartPool', '--exit-code', '4', '--count', '3']);
  assert.equal(startTask.code, 0, startTask.stderr);
  const startFault = (await faults.list()).find((each) => each.id === startTask.stdout.trim());
  assert.deepEqual(
    startFault?.type === 'startTaskFailure' ? { poolId: startFault.poolId, exitCode: startFault.exitCode, remaining: startFault.remaining } : startFault,
    { poolId: 'CliStartPool', exitCode: 4, remaining: 3 },
  );
  await faults.remove(startTask.stdout.trim());
  const delay = await lapisCli(server, ['fault', 'allocation-delay', 'CliDelayPool', 'PT5M']);
  assert.equal(delay.code, 0, delay.stderr);
  assert.equal((await faults.list()).find((each) => each.id === delay.stdout.trim())?.durationMs, 300_000);
  await faults.remove(delay.stdout.trim());
  const noPool = await lapisCli(server, ['fault', 'node-unusable', 'CliNoSuchPool', 'tvmps_x_d']);
  assert.notEqual(noPool.code, 0);
  assert.match(noPool.stderr, /PoolNotFound/);
});

test("the fault API needs the account's signature: none is refused, and so is a task's authentication token", async () => {
  const response = await signedRequest(server, 'GET', '/lapis/faults', { credentials: false });
  assert.equal(response.status, 403);
  assert.equal(response.body.code, 'AuthenticationFailed');

  const poolId = uniqueId('TokenPool');
  const jobId = uniqueId('TokenJob');
  await addPoolAndWait(server.batch, poolId);
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, { id: 'token', commandLine: '/bin/sh -c \'printf %s "$AZ_BATCH_AUTHENTICATION_TOKEN"\'', authenticationTokenSettings: { access: ['job'] } });
  await waitForTaskState(server.batch, jobId, 'token', 'completed');
  const token = await readStream((await server.batch.file.getFromTask(jobId, 'token', 'stdout.txt')).readableStreamBody);
  assert.ok(token.length > 0, 'the task printed its token');
  const before = (await faults.list()).length;
  const withToken = await signedRequest(server, 'POST', '/lapis/faults', {
    credentials: false,
    headers: { Authorization: `Bearer ${token}` },
    body: JSON.stringify({ type: 'taskFailure', failureInfo: { code: 'X' } }),
  });
  assert.equal(withToken.status, 403);
  assert.equal(withToken.body.code, 'InsufficientAccountPermissions');
  assert.equal((await faults.list()).length, before);
});

test('a server stops at once with a recovery restart held, a provisioning delayed, a start task hung and a node preempted by faults', { timeout: 60_000 }, async () => {
  const stopping = await startTestServer({ config: { faults: true, nodeHeartbeatTimeoutMs: 1_000 } });
  try {
    const client = new FaultClient(stopping.batch, stopping.lapis.batchUrl);
    const poolId = uniqueId('StopPool');
    await addPoolAndWait(stopping.batch, poolId, { targetLowPriorityNodes: 1 });
    const nodes = await stopping.batch.computeNode.list(poolId);
    const node = nodes.find((each) => each.isDedicated);
    await client.add({ type: 'preemption', poolId });
    const hungPool = uniqueId('StopHang');
    await client.add({ type: 'startTaskHang', poolId: hungPool });
    await stopping.batch.pool.add(poolSpec(hungPool, { startTask: { commandLine: '/bin/true', waitForSuccess: true } }));
    await waitFor(async () => ((await stopping.batch.computeNode.list(hungPool)).some((each) => each.state === 'waitingforstarttask') ? true : undefined), { what: 'a hung start task' });
    await client.add({ type: 'heartbeatLoss', poolId, nodeId: node?.id as string, duration: 'PT1H' });
    await client.add({ type: 'allocationDelay', poolId, duration: 'PT1H' });
    await stopping.batch.pool.resize(poolId, { targetDedicatedNodes: 2 });
    await waitFor(async () => ((await stopping.batch.computeNode.get(poolId, node?.id as string)).state === 'unknown' ? true : undefined), { what: 'the node unknown' });
  } finally {
    await stopping.stop();
  }
});

test('without --faults the fault API answers 404 ResourceNotFound, signed or not, and nothing is injected', async () => {
  const plain = await startTestServer();
  try {
    const client = new FaultClient(plain.batch, plain.lapis.batchUrl);
    const refused = await refusal(client.add({ type: 'taskFailure', failureInfo: { category: 'usererror', code: 'X', message: 'm' } }));
    assert.equal(refused.statusCode, 404);
    assert.equal(refused.code, 'ResourceNotFound');
    assert.match(refused.message, /--faults/);
    assert.equal((await refusal(client.list())).statusCode, 404);
  } finally {
    await plain.stop();
  }
});
