// Who a task runs as: named users from the pool's userAccounts take their
// elevation from it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';
import { findOsUser } from '../../src/server/os-users.js';

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
    assert.equal(operator.executionInfo?.result, 'success', JSON.stringify(operator.executionInfo));
    assert.equal(worker.executionInfo?.result, 'success', JSON.stringify(worker.executionInfo));
    const operatorUid = (await readStream((await server.batch.file.getFromTask(jobId, 'as-operator', 'stdout.txt')).readableStreamBody)).trim();
    const workerUid = (await readStream((await server.batch.file.getFromTask(jobId, 'as-worker', 'stdout.txt')).readableStreamBody)).trim();
    if (isRoot) {
      assert.equal(operatorUid, '0', 'an admin user runs as root');
      assert.notEqual(workerUid, '0', 'a non-admin user does not');
    }
    const stranger = await waitForTaskState(server.batch, jobId, 'as-nobody-known', 'completed');
    assert.equal(stranger.executionInfo?.failureInfo?.code, 'UserNotFound');
    await deletePool(poolId);
  });

  test('a named user is a real OS account: its name, uid/gid, home and ssh key; removed with its pool', { skip: !isRoot && 'needs root to make OS accounts' }, async () => {
    const poolId = uniqueId('OsUsers');
    const userName = `lapis${randomBytes(4).toString('hex')}`;
    const uid = freeUid();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    await addPoolAndWait(server.batch, poolId, {
      targetDedicatedNodes: 1,
      userAccounts: [{ name: userName, password: 'Secret-Pass-1', linuxUserConfiguration: { uid, gid: uid, sshPrivateKey: privateKey } }],
    });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, {
      id: 'whoami',
      commandLine: `/bin/bash -c "id -un; id -u; id -g; ls /home/${userName}/.ssh; echo $AZ_BATCH_TASK_USER"`,
      userIdentity: { userName },
    });
    const task = await waitForTaskState(server.batch, jobId, 'whoami', 'completed');
    assert.equal(task.executionInfo?.result, 'success', JSON.stringify(task.executionInfo));
    const output = await readStream((await server.batch.file.getFromTask(jobId, 'whoami', 'stdout.txt')).readableStreamBody);
    assert.equal(output, `${userName}\n${uid}\n${uid}\nauthorized_keys\nid_rsa\nid_rsa.pub\n${userName}\n`);

    await deletePool(poolId);
    assert.equal(findOsUser(userName), undefined, 'the account went with its pool');
  });

  test('a non-admin named user cannot read the private files of another pool\'s task', { skip: !isRoot && 'needs root to make OS accounts' }, async () => {
    const otherPool = uniqueId('Other');
    const usersPool = uniqueId('Named');
    await addPoolAndWait(server.batch, otherPool, { targetDedicatedNodes: 1 });
    await addPoolAndWait(server.batch, usersPool, { targetDedicatedNodes: 1, userAccounts: [{ name: `lapis${randomBytes(4).toString('hex')}`, password: 'Secret-Pass-1' }] });
    const userName = (await server.batch.pool.get(usersPool)).userAccounts?.[0]?.name as string;
    const otherJob = uniqueId('Job');
    await server.batch.job.add({ id: otherJob, poolInfo: { poolId: otherPool } });
    await server.batch.task.add(otherJob, { id: 'secret', commandLine: '/bin/bash -c "umask 077; echo secret > secret.txt; echo $AZ_BATCH_TASK_WORKING_DIR/secret.txt"' });
    await waitForTaskState(server.batch, otherJob, 'secret', 'completed');
    const secretPath = (await readStream((await server.batch.file.getFromTask(otherJob, 'secret', 'stdout.txt')).readableStreamBody)).trim();

    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId: usersPool } });
    await server.batch.task.add(jobId, { id: 'snoop', commandLine: `/bin/cat ${secretPath}`, userIdentity: { userName } });
    const snoop = await waitForTaskState(server.batch, jobId, 'snoop', 'completed');
    assert.notEqual(snoop.executionInfo?.exitCode, 0, 'the file was read');
    const stderr = await readStream((await server.batch.file.getFromTask(jobId, 'snoop', 'stderr.txt')).readableStreamBody);
    assert.match(stderr, /Permission denied/);
    await deletePool(usersPool);
    await deletePool(otherPool);
  });

  test('a named user that asks for root\'s uid and group fails its task and gets no account', { skip: !isRoot && 'needs root to make OS accounts' }, async () => {
    const poolId = uniqueId('RootUid');
    const userName = `lapis${randomBytes(4).toString('hex')}`;
    await addPoolAndWait(server.batch, poolId, {
      targetDedicatedNodes: 1,
      userAccounts: [{ name: userName, password: 'Secret-Pass-1', linuxUserConfiguration: { uid: 0, gid: 0 } }],
    });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'whoami', commandLine: '/usr/bin/id -u', userIdentity: { userName } });
    const task = await waitForTaskState(server.batch, jobId, 'whoami', 'completed');
    assert.equal(task.executionInfo?.result, 'failure');
    assert.match(task.executionInfo?.failureInfo?.message ?? '', /at least 1000/);
    assert.equal(findOsUser(userName), undefined);
    await deletePool(poolId);
  });
});

/** A uid and gid this machine uses for no user and no group (other tests' accounts come and go meanwhile, so it is looked up, not guessed). */
function freeUid(): number {
  for (;;) {
    const uid = 42_000 + Math.floor(Math.random() * 18_000);
    const taken = (database: string) => spawnSync('getent', [database, String(uid)]).status === 0;
    if (!taken('passwd') && !taken('group')) return uid;
  }
}

/** Deletes a pool and waits until it is gone (its nodes released). */
async function deletePool(poolId: string): Promise<void> {
  await server.batch.pool.deleteMethod(poolId);
  await waitFor(async () => ((await server.batch.pool.exists(poolId)).body ? undefined : true), { what: `pool ${poolId} to be deleted` });
}

// Container pools and tasks: test/integration/container-tasks.test.ts.
