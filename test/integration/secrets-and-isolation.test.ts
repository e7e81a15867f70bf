// Secrets stay out of logs and answers, and tasks stay out of what is not
// theirs: the server logs at trace level into memory while clients send keys,
// SAS signatures, passwords and environment values; then unprivileged tasks
// try to read the data directory, the database and another account's nodes.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { signedRequest } from '../../src/testkit/signed-request.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

const OTHER = { name: 'other', key: Buffer.from('the other account key, which must never show up anywhere!!').toString('base64') };
const SAS_SIGNATURE = 'SECRETSIGNATUREvalue0123456789';
const ENV_SECRET = 'env-secret-value-4242';
const PASSWORD = 'N0de-user-Passw0rd!';

let server: TestServer;
const logLines: string[] = [];

before(async () => {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  server = await startTestServer({
    config: { logLevel: 'trace', accounts: [{ name: 'lapis', key: Buffer.from('lapis account key for the secrets test, 64 bytes long, padded!!').toString('base64') }, OTHER] },
    logDestination: destination,
  });
});

after(async () => {
  await server?.stop();
});

describe('secrets', () => {
  test('keys, SAS signatures, passwords and environment values never reach the log', async () => {
    const poolId = uniqueId('Secrets');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, {
      id: 'leaky',
      commandLine: '/bin/true',
      environmentSettings: [{ name: 'SECRET', value: ENV_SECRET }],
      resourceFiles: [{ httpUrl: `${server.lapis.storageAccountUrl}/nowhere/file.txt?sv=2021-08-06&sig=${SAS_SIGNATURE}`, filePath: 'file.txt' }],
    });
    const failed = await waitForTaskState(server.batch, jobId, 'leaky', 'completed');
    assert.equal(failed.executionInfo?.result, 'failure');
    assert.ok(!JSON.stringify(failed.executionInfo).includes(SAS_SIGNATURE), 'the failure message hides the signature');
    const [node] = await server.batch.computeNode.list(poolId);
    await server.batch.computeNode.addUser(poolId, node?.id as string, { name: 'someone', password: PASSWORD });
    await server.batchClientFor('lapis', OTHER.key).pool.list().catch(() => undefined);
    await signedRequest(server, 'GET', '/pools', { credentials: { name: 'lapis', key: OTHER.key } });

    const log = logLines.join('');
    assert.ok(log.length > 0, 'the server logged something');
    for (const secret of [server.account.key, OTHER.key, SAS_SIGNATURE, ENV_SECRET, PASSWORD]) {
      assert.ok(!log.includes(secret), `the log holds a secret: ${secret.slice(0, 8)}…`);
    }
    const requestLines = logLines.map((line) => JSON.parse(line) as { msg?: string; requestId?: string }).filter((line) => line.msg === 'request');
    assert.ok(requestLines.length > 0 && requestLines.every((line) => typeof line.requestId === 'string'), 'structured request lines carry a request id');
  });
});

describe('task isolation', { skip: process.getuid?.() !== 0 && 'tasks run as another user only when Lapis runs as root' }, () => {
  test('an unprivileged task cannot read the data directory, the database or another account\'s nodes', async () => {
    const other = server.batchClientFor(OTHER.name, OTHER.key);
    const otherPool = uniqueId('OtherPool');
    await addPoolAndWait(other, otherPool, { targetDedicatedNodes: 1 });
    const otherNode = (await other.computeNode.list(otherPool))[0]?.id as string;

    const poolId = uniqueId('Isolated');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    const data = server.dataDir;
    const probes = [
      `ls ${data}`,
      `cat ${data}/lapis.db`,
      `ls ${data}/nodes/${otherNode}`,
      `ls ${data}/blob`,
    ];
    const script = probes.map((probe) => `if ${probe} >/dev/null 2>&1; then echo "OPEN: ${probe}"; else echo "closed"; fi`).join('; ');
    await server.batch.task.add(jobId, { id: 'probe', commandLine: `/bin/bash -c '${script}'` });
    const task = await waitForTaskState(server.batch, jobId, 'probe', 'completed');
    assert.equal(task.executionInfo?.exitCode, 0);
    const output = await readStream((await server.batch.file.getFromTask(jobId, 'probe', 'stdout.txt')).readableStreamBody);
    assert.equal(output.trim().split('\n').filter((line) => line !== 'closed').join('\n'), '', output);

    await server.batch.task.add(jobId, {
      id: 'admin',
      commandLine: `/bin/bash -c 'ls ${data} >/dev/null && echo readable'`,
      userIdentity: { autoUser: { elevationLevel: 'admin', scope: 'task' } },
    });
    const admin = await waitForTaskState(server.batch, jobId, 'admin', 'completed');
    assert.equal(admin.executionInfo?.exitCode, 0, 'an admin task runs as root and may');
  });
});
