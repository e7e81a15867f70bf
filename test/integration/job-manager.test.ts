// The job manager task through @azure/batch, with real processes: added with
// the job, run first and (runExclusive) alone on its node; its completion
// terminates the job (killJobOnCompletion) unless told otherwise.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, batchError, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
const poolId = uniqueId('JmPool');
const logLines: string[] = [];

before(async () => {
  server = await startTestServer({ config: { logLevel: 'debug' }, logDestination: { write: (line: string) => void logLines.push(line) } });
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, taskSlotsPerNode: 4 });
});

after(async () => {
  await server?.stop();
});

describe('job manager task', () => {
  test('is added with the job, runs alone on its node, and its completion ends the job', async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId }, jobManagerTask: { id: 'manager', commandLine: '/bin/sleep 0.5' } });
    const listed = await server.batch.task.list(jobId);
    assert.deepEqual(listed.map((task) => task.id), ['manager']);
    await server.batch.task.add(jobId, { id: 'worker', commandLine: '/bin/true' });
    await waitForTaskState(server.batch, jobId, 'manager', 'running');
    const [node] = await server.batch.computeNode.list(poolId);
    assert.equal(node?.runningTaskSlotsCount, 4, 'an exclusive job manager holds every slot');
    assert.equal((await server.batch.task.get(jobId, 'worker')).state, 'active', 'nothing else runs beside it');
    const job = await waitFor(async () => {
      const current = await server.batch.job.get(jobId);
      return current.state === 'completed' ? current : undefined;
    });
    assert.equal(job.executionInfo?.terminateReason, 'JMComplete');
    assert.equal((await server.batch.computeNode.list(poolId))[0]?.runningTaskSlotsCount, 0);
  });

  test('with killJobOnCompletion false the job stays; without runExclusive tasks run beside it', async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({
      id: jobId,
      poolInfo: { poolId },
      jobManagerTask: { id: 'jm', commandLine: '/bin/sleep 1', killJobOnCompletion: false, runExclusive: false },
    });
    await waitForTaskState(server.batch, jobId, 'jm', 'running');
    await server.batch.task.add(jobId, { id: 'beside', commandLine: '/bin/true' });
    await waitForTaskState(server.batch, jobId, 'beside', 'completed');
    assert.equal((await server.batch.task.get(jobId, 'jm')).state, 'running', 'the worker ran while the manager ran');
    await waitForTaskState(server.batch, jobId, 'jm', 'completed');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await server.batch.job.get(jobId)).state, 'active');
  });

  test('an invalid job manager task is refused with the job', async () => {
    const jobId = uniqueId('Job');
    await assert.rejects(
      server.batch.job.add({ id: jobId, poolInfo: { poolId }, jobManagerTask: { id: 'not valid!', commandLine: '/bin/true' } }),
      batchError('InvalidPropertyValue', 400),
    );
    await assert.rejects(server.batch.job.get(jobId), batchError('JobNotFound', 404));
  });

  test('with authenticationTokenSettings the task may call the Batch API for its own job only', async () => {
    const jobId = uniqueId('Job');
    const otherJob = uniqueId('Other');
    await server.batch.job.add({ id: otherJob, poolInfo: { poolId } });
    // A script with nothing but the token: its own job, a task added to it, another job, the pools.
    const script = [
      "const u=process.env.AZ_BATCH_ACCOUNT_URL, v='?api-version=2022-10-01.16.0', job='/jobs/'+process.env.AZ_BATCH_JOB_ID;",
      "const h={authorization:'Bearer '+process.env.AZ_BATCH_AUTHENTICATION_TOKEN, 'content-type':'application/json; odata=minimalmetadata'};",
      "const call=async(p,init={})=>{const r=await fetch(u+p+v,{headers:h,...init});const t=await r.text();const b=t?JSON.parse(t):{};return r.status+' '+(b.id??b.code??'');};",
      "require('fs').writeFileSync('token.txt', process.env.AZ_BATCH_AUTHENTICATION_TOKEN);",
      "(async()=>{console.log(await call(job));",
      "console.log(await call(job+'/tasks',{method:'POST',body:JSON.stringify({id:'child',commandLine:'/bin/true'})}));",
      `console.log(await call('/jobs/${otherJob}'));`,
      "console.log(await call('/pools'));})();",
    ].join('');
    await server.batch.job.add({
      id: jobId,
      poolInfo: { poolId },
      jobManagerTask: { id: 'manager', commandLine: `${process.execPath} -e "${script}"`, killJobOnCompletion: false, authenticationTokenSettings: { access: ['job'] } },
    });
    const manager = await waitForTaskState(server.batch, jobId, 'manager', 'completed');
    assert.equal(manager.executionInfo?.result, 'success', JSON.stringify(manager.executionInfo));
    const output = await readStream((await server.batch.file.getFromTask(jobId, 'manager', 'stdout.txt')).readableStreamBody);
    assert.equal(output, `200 ${jobId}\n201 \n403 InsufficientAccountPermissions\n403 InsufficientAccountPermissions\n`);
    assert.equal((await server.batch.task.get(jobId, 'child')).id, 'child');

    const token = await readStream((await server.batch.file.getFromTask(jobId, 'manager', 'wd/token.txt')).readableStreamBody);
    assert.ok(token.length > 20);
    assert.ok(logLines.length > 0);
    assert.ok(!logLines.some((line) => line.includes(token)), 'the token appears in no log line');
  });

  test('an ordinary task gets a token only when it asks for one; a forged token is refused', async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    const show = '/bin/bash -c "echo ${AZ_BATCH_AUTHENTICATION_TOKEN:-none}"';
    await server.batch.task.addCollection(jobId, [
      { id: 'with', commandLine: show, authenticationTokenSettings: { access: ['job'] } },
      { id: 'without', commandLine: show },
    ]);
    await waitForTaskState(server.batch, jobId, 'with', 'completed');
    await waitForTaskState(server.batch, jobId, 'without', 'completed');
    const read = async (taskId: string) => (await readStream((await server.batch.file.getFromTask(jobId, taskId, 'stdout.txt')).readableStreamBody)).trim();
    assert.equal(await read('without'), 'none');
    const token = await read('with');
    const url = `${server.lapis.batchUrl}/jobs/${jobId}?api-version=2022-10-01.16.0`;
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    const [payload, signature] = token.split('.') as [string, string];
    const forged = `${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    const refused = await fetch(url, { headers: { authorization: `Bearer ${forged}` } });
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { code: string }).code, 'AuthenticationFailed');
  });
});
