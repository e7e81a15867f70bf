// Who a task runs as, and what Lapis refuses to run on the host: named users
// from the pool's userAccounts take their elevation from it; containers are
// refused with a clear error at pool or task creation (local nodes have no
// container runtime), never run on the host instead.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, batchError, poolSpec, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { errorDetail, signedRequest } from '../../src/testkit/signed-request.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
const isRoot = process.getuid?.() === 0;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

describe('named users', () => {
  test('a task runs with the elevation of its pool user; an unknown user fails the task', async () => {
    const poolId = uniqueId('Users');
    await addPoolAndWait(server.batch, poolId, {
      targetDedicatedNodes: 1,
      userAccounts: [
        { name: 'operator', password: 'Operator-Pass-1', elevationLevel: 'admin' },
        { name: 'worker', password: 'Worker-Pass-1' },
      ],
    });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.addCollection(jobId, [
      { id: 'as-operator', commandLine: '/usr/bin/id -u', userIdentity: { userName: 'operator' } },
      { id: 'as-worker', commandLine: '/usr/bin/id -u', userIdentity: { userName: 'Worker' } },
      { id: 'as-nobody-known', commandLine: '/usr/bin/id -u', userIdentity: { userName: 'stranger' } },
    ]);
    const operator = await waitForTaskState(server.batch, jobId, 'as-operator', 'completed');
    const worker = await waitForTaskState(server.batch, jobId, 'as-worker', 'completed');
    assert.equal(operator.executionInfo?.result, 'success');
    assert.equal(worker.executionInfo?.result, 'success');
    const operatorUid = (await readStream((await server.batch.file.getFromTask(jobId, 'as-operator', 'stdout.txt')).readableStreamBody)).trim();
    const workerUid = (await readStream((await server.batch.file.getFromTask(jobId, 'as-worker', 'stdout.txt')).readableStreamBody)).trim();
    if (isRoot) {
      assert.equal(operatorUid, '0', 'an admin user runs as root');
      assert.notEqual(workerUid, '0', 'a non-admin user does not');
    }
    const stranger = await waitForTaskState(server.batch, jobId, 'as-nobody-known', 'completed');
    assert.equal(stranger.executionInfo?.failureInfo?.code, 'UserNotFound');
  });
});

describe('containers', () => {
  test('container pools, start tasks and tasks are refused, naming the property', async () => {
    const base = poolSpec(uniqueId('Docker'), { targetDedicatedNodes: 0 });
    const containerPool = {
      ...base,
      virtualMachineConfiguration: { ...base.virtualMachineConfiguration, containerConfiguration: { type: 'dockerCompatible', containerImageNames: ['ubuntu'] } },
    };
    const response = await signedRequest(server, 'POST', '/pools', { body: JSON.stringify(containerPool) });
    assert.equal(response.status, 400);
    assert.equal(errorDetail(response.body, 'PropertyName'), 'virtualMachineConfiguration.containerConfiguration');
    assert.match(errorDetail(response.body, 'Reason') ?? '', /container runtime/);
    await assert.rejects(server.batch.pool.get(base.id), batchError('PoolNotFound', 404));

    const poolId = uniqueId('Plain');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 0 });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await assert.rejects(
      server.batch.task.add(jobId, { id: 'boxed', commandLine: '/bin/true', containerSettings: { imageName: 'ubuntu:22.04' } }),
      batchError('InvalidPropertyValue', 400),
    );
    assert.deepEqual([...(await server.batch.task.list(jobId))], []);
  });
});
