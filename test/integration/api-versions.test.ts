// What later API versions add, through raw signed requests (the JavaScript
// SDK speaks 2022-10-01.16.0): node deallocate and start (2024-07-01.20.0,
// unknown to earlier versions), `force` on job and schedule delete and
// terminate, and pool resourceTags / upgradePolicy stored and returned.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, poolSpec, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { signedRequest } from '../../src/testkit/signed-request.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

const V16 = 'api-version=2022-10-01.16.0';
const V18 = 'api-version=2023-11-01.18.0';
const V20 = 'api-version=2024-07-01.20.0';

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

async function nodeState(poolId: string, nodeId: string): Promise<string | undefined> {
  return (await server.batch.computeNode.get(poolId, nodeId)).state;
}

describe('2024-07-01.20.0', () => {
  test('deallocate ends the node\'s work and keeps its files; start brings it back', async () => {
    const poolId = uniqueId('Dealloc');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    const nodeId = (await server.batch.computeNode.list(poolId))[0]?.id as string;
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'mark', commandLine: '/bin/bash -c "echo kept > $AZ_BATCH_NODE_SHARED_DIR/mark.txt"' });
    await waitForTaskState(server.batch, jobId, 'mark', 'completed');
    await server.batch.task.add(jobId, { id: 'long', commandLine: '/bin/sleep 30' });
    await waitForTaskState(server.batch, jobId, 'long', 'running');

    const old = await signedRequest(server, 'POST', `/pools/${poolId}/nodes/${nodeId}/deallocate`, { query: V16, body: '{}' });
    assert.equal(old.status, 400, 'earlier versions do not have the operation');
    assert.equal(old.body.code, 'InvalidUri');

    const deallocate = await signedRequest(server, 'POST', `/pools/${poolId}/nodes/${nodeId}/deallocate`, { query: V20, body: '{}' });
    assert.equal(deallocate.status, 202, deallocate.text);
    await waitFor(async () => ((await nodeState(poolId, nodeId)) === 'deallocated' ? true : undefined));
    const requeued = await server.batch.task.get(jobId, 'long');
    assert.equal(requeued.state, 'active');
    assert.equal(requeued.executionInfo?.requeueCount, 1);

    const again = await signedRequest(server, 'POST', `/pools/${poolId}/nodes/${nodeId}/deallocate`, { query: V20, body: '{}' });
    assert.equal(again.status, 409);

    const start = await signedRequest(server, 'POST', `/pools/${poolId}/nodes/${nodeId}/start`, { query: V20 });
    assert.equal(start.status, 202, start.text);
    await waitForTaskState(server.batch, jobId, 'long', 'running');
    const file = await signedRequest(server, 'GET', `/pools/${poolId}/nodes/${nodeId}/files/shared/mark.txt`, { query: V20 });
    assert.equal(file.text, 'kept\n');
    await server.batch.task.terminate(jobId, 'long');
  });

  test('force is accepted on job and schedule delete and terminate, and checked', async () => {
    const poolId = uniqueId('Force');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 0 });
    for (const jobId of [uniqueId('Job'), uniqueId('Job')]) await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    const [first, second] = (await server.batch.job.list()).map((job) => job.id as string).filter((id) => id.startsWith('Job-'));
    const terminate = await signedRequest(server, 'POST', `/jobs/${first}/terminate`, { query: `${V20}&force=true` });
    assert.equal(terminate.status, 202, terminate.text);
    const remove = await signedRequest(server, 'DELETE', `/jobs/${second}`, { query: `${V20}&force=true` });
    assert.equal(remove.status, 202, remove.text);
    const bad = await signedRequest(server, 'DELETE', `/jobs/${first}`, { query: `${V20}&force=maybe` });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'InvalidQueryParameterValue');
    await server.batch.jobSchedule.add({ id: 'forced', schedule: { doNotRunUntil: new Date(Date.now() + 3_600_000) }, jobSpecification: { poolInfo: { poolId } } });
    const scheduleDelete = await signedRequest(server, 'DELETE', '/jobschedules/forced', { query: `${V20}&force=true` });
    assert.equal(scheduleDelete.status, 202);
  });
});

describe('2023-11-01.18.0 and later pool properties', () => {
  test('resourceTags and upgradePolicy are stored and returned', async () => {
    const id = uniqueId('Tagged');
    const body = {
      ...poolSpec(id, { targetDedicatedNodes: 0 }),
      resourceTags: { team: 'lapis', cost: 'local' },
      upgradePolicy: { mode: 'manual' },
    };
    const created = await signedRequest(server, 'POST', '/pools', { query: V18, body: JSON.stringify(body) });
    assert.equal(created.status, 201, created.text);
    const pool = await signedRequest(server, 'GET', `/pools/${id}`, { query: V20 });
    assert.deepEqual(pool.body.resourceTags, { team: 'lapis', cost: 'local' });
    assert.deepEqual(pool.body.upgradePolicy, { mode: 'manual' });
  });
});

describe('2024-07-01.20.0 pool patch', () => {
  test('a pool without nodes takes the wider patch; one with nodes refuses it; earlier versions ignore it', async () => {
    const empty = uniqueId('Empty');
    await addPoolAndWait(server.batch, empty, { targetDedicatedNodes: 0 });
    const patched = await signedRequest(server, 'PATCH', `/pools/${empty}`, {
      query: V20,
      body: JSON.stringify({ vmSize: 'STANDARD_D2S_V3', taskSlotsPerNode: 3, resourceTags: { tier: 'gold' } }),
    });
    assert.equal(patched.status, 200, patched.text);
    const pool = await server.batch.pool.get(empty);
    assert.equal(pool.vmSize, 'standard_d2s_v3');
    assert.equal(pool.taskSlotsPerNode, 3);

    const old = await signedRequest(server, 'PATCH', `/pools/${empty}`, { query: V16, body: JSON.stringify({ taskSlotsPerNode: 5 }) });
    assert.equal(old.status, 200);
    assert.equal((await server.batch.pool.get(empty)).taskSlotsPerNode, 3, 'the 2022-10 patch does not know the property');

    const busy = uniqueId('Busy');
    await addPoolAndWait(server.batch, busy, { targetDedicatedNodes: 1 });
    const refused = await signedRequest(server, 'PATCH', `/pools/${busy}`, { query: V20, body: JSON.stringify({ taskSlotsPerNode: 2 }) });
    assert.equal(refused.status, 409);
    assert.equal((await server.batch.pool.get(busy)).taskSlotsPerNode, 1);
  });

  test('pool user passwords and private keys are never returned', async () => {
    const id = uniqueId('Users');
    const body = {
      ...poolSpec(id, { targetDedicatedNodes: 0 }),
      userAccounts: [{ name: 'runner', password: 'Pool-Secret-123', linuxUserConfiguration: { uid: 1200, sshPrivateKey: 'PRIVATE-KEY-DATA' } }],
    };
    assert.equal((await signedRequest(server, 'POST', '/pools', { query: V16, body: JSON.stringify(body) })).status, 201);
    const got = await signedRequest(server, 'GET', `/pools/${id}`, { query: V16 });
    assert.ok(!got.text.includes('Pool-Secret-123') && !got.text.includes('PRIVATE-KEY-DATA'), got.text);
    assert.equal((got.body.userAccounts as { name: string }[])[0]?.name, 'runner');
  });
});
