import { BlobSASPermissions, ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEV_STORAGE } from '../../src/config/config.js';
import { addPoolAndWait, batchError, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { errorDetail, signedRequest } from '../../src/testkit/signed-request.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
let poolId: string;
before(async () => {
  server = await startTestServer();
  poolId = uniqueId('TasksPool');
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 2, taskSlotsPerNode: 2 });
});
after(async () => {
  await server.stop();
});

async function newJob(prefix = 'Job'): Promise<string> {
  const id = uniqueId(prefix);
  await server.batch.job.add({ id, poolInfo: { poolId } });
  return id;
}

async function stdoutOf(jobId: string, taskId: string): Promise<string> {
  return readStream((await server.batch.file.getFromTask(jobId, taskId, 'stdout.txt')).readableStreamBody);
}

describe('Task_Add and Task_Get', () => {
  test('a task runs on a node and reports Batch\'s execution and node info', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'Hello', commandLine: '/bin/echo hello world' });
    const active = await server.batch.task.get(jobId, 'hello');
    assert.equal(active.id, 'Hello');
    assert.equal(active.url, `${server.lapis.batchUrl}/jobs/${jobId}/tasks/Hello`);
    assert.equal(active.requiredSlots, 1);
    assert.equal(active.constraints?.maxTaskRetryCount, 0);
    assert.equal(active.constraints?.retentionTime, 'P7D');
    assert.equal(active.userIdentity?.autoUser?.elevationLevel, 'nonadmin');
    assert.equal(active.executionInfo?.retryCount, 0);
    assert.equal(active.executionInfo?.requeueCount, 0);

    const task = await waitForTaskState(server.batch, jobId, 'Hello', 'completed');
    assert.equal(task.previousState, 'running');
    assert.equal(task.executionInfo?.exitCode, 0);
    assert.equal(task.executionInfo?.result, 'success');
    assert.equal(task.executionInfo?.failureInfo, undefined);
    assert.ok(task.executionInfo?.startTime instanceof Date);
    assert.ok(task.executionInfo?.endTime instanceof Date);
    assert.equal(task.nodeInfo?.poolId, poolId);
    assert.match(task.nodeInfo?.nodeId ?? '', /^tvmps_/);
    assert.equal(task.nodeInfo?.affinityId, `TVM:${task.nodeInfo?.nodeId}`);
    assert.equal(task.nodeInfo?.taskRootDirectory, `workitems/${jobId}/job-1/Hello`);
    assert.equal(task.nodeInfo?.taskRootDirectoryUrl, `${task.nodeInfo?.nodeUrl}/files/workitems/${jobId}/job-1/Hello`);
    assert.equal(await stdoutOf(jobId, 'Hello'), 'hello world\n');
  });

  test('the command line runs without a shell, in wd, with Batch\'s environment', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, {
      id: 'env',
      commandLine: '/bin/sh -c "echo TASK=$AZ_BATCH_TASK_ID JOB=$AZ_BATCH_JOB_ID POOL=$AZ_BATCH_POOL_ID NODE=$AZ_BATCH_NODE_ID MINE=$MY_SETTING; pwd; echo WD=$AZ_BATCH_TASK_WORKING_DIR; echo ACCOUNT=$AZ_BATCH_ACCOUNT_NAME"',
      environmentSettings: [{ name: 'MY_SETTING', value: 'forty-two' }],
    });
    await server.batch.task.add(jobId, { id: 'literal', commandLine: '/bin/echo $HOME *' });
    const task = await waitForTaskState(server.batch, jobId, 'env', 'completed');
    const output = (await stdoutOf(jobId, 'env')).split('\n');
    assert.equal(output[0], `TASK=env JOB=${jobId} POOL=${poolId} NODE=${task.nodeInfo?.nodeId} MINE=forty-two`);
    assert.equal(output[2], `WD=${output[1]}`);
    assert.ok(output[1]?.endsWith(`/workitems/${jobId}/job-1/env/wd`));
    assert.equal(output[3], `ACCOUNT=${server.account.name}`);
    await waitForTaskState(server.batch, jobId, 'literal', 'completed');
    assert.equal(await stdoutOf(jobId, 'literal'), '$HOME *\n', 'no variable expansion or globbing without a shell');
  });

  test('duplicate ids in any case are TaskExists; unknown tasks TaskNotFound', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'Twice', commandLine: '/bin/true' });
    await assert.rejects(server.batch.task.add(jobId, { id: 'TWICE', commandLine: '/bin/true' }), batchError('TaskExists', 409));
    await assert.rejects(server.batch.task.get(jobId, 'nope'), batchError('TaskNotFound', 404));
    await assert.rejects(server.batch.task.add('no-such-job', { id: 'x', commandLine: '/bin/true' }), batchError('JobNotFound', 404));
  });
});

describe('task outcomes', () => {
  test('a non-zero exit fails the task with FailureExitCode', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'fails', commandLine: '/bin/sh -c "exit 3"' });
    const task = await waitForTaskState(server.batch, jobId, 'fails', 'completed');
    assert.equal(task.executionInfo?.exitCode, 3);
    assert.equal(task.executionInfo?.result, 'failure');
    assert.equal(task.executionInfo?.failureInfo?.category, 'usererror');
    assert.equal(task.executionInfo?.failureInfo?.code, 'FailureExitCode');
  });

  test('maxTaskRetryCount retries a failing task on the same node and directory, without downloading its files again', async () => {
    const container = server.blob.getContainerClient(uniqueId('retry').toLowerCase());
    await container.create();
    await container.getBlockBlobClient('input.txt').upload('data', 4);
    const sas = generateBlobSASQueryParameters(
      { containerName: container.containerName, blobName: 'input.txt', permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3_600_000) },
      new StorageSharedKeyCredential(DEV_STORAGE.accountName, DEV_STORAGE.accountKey),
    ).toString();
    const jobId = await newJob();
    await server.batch.task.add(jobId, {
      id: 'retry',
      commandLine: '/bin/sh -c "test -e input.txt && echo downloaded; rm -f input.txt; echo $AZ_BATCH_NODE_ID >> tries.log; exit 5"',
      resourceFiles: [{ httpUrl: `${container.getBlockBlobClient('input.txt').url}?${sas}`, filePath: 'input.txt' }],
      constraints: { maxTaskRetryCount: 2 },
    });
    const task = await waitForTaskState(server.batch, jobId, 'retry', 'completed');
    assert.equal(task.executionInfo?.retryCount, 2);
    assert.equal(task.executionInfo?.requeueCount, 0);
    assert.equal(task.executionInfo?.exitCode, 5);
    assert.equal(task.executionInfo?.result, 'failure');
    assert.ok(task.executionInfo?.lastRetryTime instanceof Date);
    assert.equal(await stdoutOf(jobId, 'retry'), 'downloaded\n', 'resource files are downloaded for the first try only');
    const tries = await readStream((await server.batch.file.getFromTask(jobId, 'retry', 'wd/tries.log')).readableStreamBody);
    assert.deepEqual(tries.trim().split('\n'), [task.nodeInfo?.nodeId, task.nodeInfo?.nodeId, task.nodeInfo?.nodeId], 'three tries, all on one node, in one directory');
  });

  test('a program that does not exist is CommandProgramNotFound', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'missing', commandLine: '/no/such/program --flag' });
    const task = await waitForTaskState(server.batch, jobId, 'missing', 'completed');
    assert.equal(task.executionInfo?.result, 'failure');
    assert.equal(task.executionInfo?.failureInfo?.code, 'CommandProgramNotFound');
  });

  test('a resource file that cannot be downloaded fails the task without running it', async () => {
    const jobId = await newJob();
    const url = `${server.lapis.storageAccountUrl}/nocontainer/nothing.txt`;
    await server.batch.task.add(jobId, { id: 'nofile', commandLine: '/bin/true', resourceFiles: [{ httpUrl: url, filePath: 'nothing.txt' }] });
    const task = await waitForTaskState(server.batch, jobId, 'nofile', 'completed');
    assert.equal(task.executionInfo?.result, 'failure');
    assert.equal(task.executionInfo?.exitCode, undefined);
    assert.equal(task.executionInfo?.failureInfo?.category, 'usererror');
    assert.ok(['BlobNotFound', 'BlobAccessDenied'].includes(task.executionInfo?.failureInfo?.code ?? ''), task.executionInfo?.failureInfo?.code);
  });

  test('maxWallClockTime ends the task and its children', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'slow', commandLine: '/bin/sh -c "sleep 60 & sleep 60"', constraints: { maxWallClockTime: 'PT1S' } });
    const task = await waitForTaskState(server.batch, jobId, 'slow', 'completed');
    assert.equal(task.executionInfo?.result, 'failure');
    // Batch's error handling page: a task past its own limit fails with { category: ServerError, code: TaskEnded }.
    assert.equal(task.executionInfo?.failureInfo?.code, 'TaskEnded');
    assert.equal(task.executionInfo?.failureInfo?.category, 'servererror');
  });
});

describe('resource files', () => {
  test('storageContainerUrl with blobPrefix and autoStorageContainerName download blobs into wd', async () => {
    const container = server.blob.getContainerClient(uniqueId('inputs').toLowerCase());
    await container.create();
    for (const [name, text] of [['data/a.txt', 'A'], ['data/b.txt', 'B'], ['other/c.txt', 'C']]) {
      await container.getBlockBlobClient(name as string).upload(text as string, 1);
    }
    const sas = generateBlobSASQueryParameters(
      { containerName: container.containerName, permissions: ContainerSASPermissions.parse('rl'), expiresOn: new Date(Date.now() + 3_600_000) },
      new StorageSharedKeyCredential(DEV_STORAGE.accountName, DEV_STORAGE.accountKey),
    ).toString();
    const jobId = await newJob();
    await server.batch.task.add(jobId, {
      id: 'container',
      commandLine: '/bin/sh -c "cat in/data/a.txt in/data/b.txt; test -e in/other/c.txt && echo unexpected; cat auto/other/c.txt"',
      resourceFiles: [
        { storageContainerUrl: `${container.url}?${sas}`, blobPrefix: 'data/', filePath: 'in' },
        { autoStorageContainerName: container.containerName, blobPrefix: 'other/', filePath: 'auto' },
      ],
    });
    const task = await waitForTaskState(server.batch, jobId, 'container', 'completed');
    assert.equal(task.executionInfo?.result, 'success', JSON.stringify(task.executionInfo?.failureInfo));
    assert.equal(await stdoutOf(jobId, 'container'), 'ABC');
  });
});

describe('Task_AddCollection', () => {
  test('returns a result per task: successes stored, duplicates TaskExists', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'existing', commandLine: '/bin/true' });
    const result = await server.batch.task.addCollection(jobId, [
      { id: 'one', commandLine: '/bin/true' },
      { id: 'EXISTING', commandLine: '/bin/true' },
      { id: 'two', commandLine: '/bin/true' },
      { id: 'ONE', commandLine: '/bin/true' },
      { id: 'not valid!', commandLine: '/bin/true' },
    ]);
    const byId = new Map((result.value ?? []).map((entry) => [entry.taskId, entry]));
    assert.equal(byId.get('one')?.status, 'success');
    assert.match(byId.get('one')?.eTag ?? '', /^0x/);
    assert.equal(byId.get('one')?.location, `${server.lapis.batchUrl}/jobs/${jobId}/tasks/one`);
    assert.equal(byId.get('two')?.status, 'success');
    assert.equal(byId.get('EXISTING')?.status, 'clienterror');
    assert.equal(byId.get('EXISTING')?.error?.code, 'TaskExists');
    assert.equal(byId.get('ONE')?.error?.code, 'TaskExists');
    assert.equal(byId.get('not valid!')?.error?.code, 'InvalidPropertyValue');
    const listed = (await server.batch.task.list(jobId)).map((task) => task.id).sort();
    assert.deepEqual(listed, ['existing', 'one', 'two']);
  });

  test('more than 100 tasks in one collection is refused whole', async () => {
    const jobId = await newJob();
    const tasks = Array.from({ length: 101 }, (_, index) => ({ id: `t${index}`, commandLine: '/bin/true' }));
    // The SDK itself refuses more than 100 before sending; other clients may not.
    await assert.rejects(server.batch.task.addCollection(jobId, tasks), /100/);
    const response = await signedRequest(server, 'POST', `/jobs/${jobId}/addtaskcollection`, { body: JSON.stringify({ value: tasks }) });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.body.code, 'InvalidPropertyValue');
    assert.equal(errorDetail(response.body, 'PropertyName'), 'value');
    assert.equal((await server.batch.task.list(jobId)).length, 0);
  });
});

describe('Task_List', () => {
  test('pages through more than 1000 tasks with odata.nextLink', async () => {
    const jobId = uniqueId('Many');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId: 'no-such-pool-so-tasks-wait' } });
    const total = 1150;
    for (let start = 0; start < total; start += 100) {
      const chunk = Array.from({ length: Math.min(100, total - start) }, (_, index) => ({ id: `task-${start + index}`, commandLine: '/bin/true' }));
      const result = await server.batch.task.addCollection(jobId, chunk);
      assert.ok((result.value ?? []).every((entry) => entry.status === 'success'));
    }
    const first = await server.batch.task.list(jobId);
    assert.equal(first.length, 1000, 'the default and maximum page is 1000');
    assert.ok(first.odatanextLink);
    const second = await server.batch.task.listNext(first.odatanextLink as string);
    assert.equal(second.length, 150);
    assert.equal(second.odatanextLink, undefined);
    const ids = new Set([...first, ...second].map((task) => task.id));
    assert.equal(ids.size, total);
    const small = await server.batch.task.list(jobId, { taskListOptions: { maxResults: 10, select: 'id,state' } });
    assert.equal(small.length, 10);
    assert.equal(small[0]?.commandLine, undefined);
    assert.equal(small[0]?.state, 'active');
  });
});

describe('Task_Delete', () => {
  test('deletes a completed task and ends a running one', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'done', commandLine: '/bin/true' });
    await server.batch.task.add(jobId, { id: 'sleeping', commandLine: '/bin/sleep 60' });
    await waitForTaskState(server.batch, jobId, 'done', 'completed');
    await waitForTaskState(server.batch, jobId, 'sleeping', 'running');
    await server.batch.task.deleteMethod(jobId, 'done');
    await server.batch.task.deleteMethod(jobId, 'sleeping');
    await assert.rejects(server.batch.task.get(jobId, 'sleeping'), batchError('TaskNotFound', 404));
    assert.equal((await server.batch.task.list(jobId)).length, 0);
    await waitFor(async () => ((await server.batch.computeNode.list(poolId)).every((node) => node.runningTasksCount === 0) ? true : undefined));
  });
});

describe('scheduling', () => {
  test('a node runs at most taskSlotsPerNode tasks at once', async () => {
    const jobId = await newJob('Slots');
    const count = 6;
    await server.batch.task.addCollection(
      jobId,
      Array.from({ length: count }, (_, index) => ({ id: `s${index}`, commandLine: '/bin/sleep 1' })),
    );
    let maxRunning = 0;
    await waitFor(async () => {
      const nodes = await server.batch.computeNode.list(poolId);
      for (const node of nodes) assert.ok((node.runningTaskSlotsCount ?? 0) <= 2, 'never more than 2 slots per node');
      const tasks = await server.batch.task.list(jobId);
      maxRunning = Math.max(maxRunning, tasks.filter((task) => task.state === 'running').length);
      return tasks.every((task) => task.state === 'completed') ? true : undefined;
    }, { timeoutMs: 30_000 });
    assert.ok(maxRunning <= 4, `at most 4 tasks ran at once on 2 nodes x 2 slots, saw ${maxRunning}`);
    assert.ok(maxRunning >= 2, 'tasks ran in parallel');
  });

  test('tasks do not run as root unless they ask for admin elevation', { skip: process.getuid?.() !== 0 && 'only meaningful when Lapis runs as root' }, async () => {
    const jobId = await newJob('Users');
    await server.batch.task.add(jobId, { id: 'plain', commandLine: '/usr/bin/id -u' });
    await server.batch.task.add(jobId, { id: 'admin', commandLine: '/usr/bin/id -u', userIdentity: { autoUser: { elevationLevel: 'admin' } } });
    await waitForTaskState(server.batch, jobId, 'plain', 'completed');
    await waitForTaskState(server.batch, jobId, 'admin', 'completed');
    assert.notEqual((await stdoutOf(jobId, 'plain')).trim(), '0');
    assert.equal((await stdoutOf(jobId, 'admin')).trim(), '0');
  });
});
