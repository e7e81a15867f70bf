// API versions older than the primary one (2018-08-01.7.0 to
// 2022-01-01.15.0): the client Microsoft's samples pin (@azure/batch 8.0.0,
// which speaks 2020-09-01.12.0) through a quickstart-shaped run, and raw
// signed requests per version for what each version added, removed,
// renamed or defaulted otherwise (src/api/batch/version-history.ts).

import { BatchServiceClient as BatchServiceClientV8, BatchSharedKeyCredentials as BatchSharedKeyCredentialsV8 } from '@azure/batch-v8';
import { BlobSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SUPPORTED_API_VERSIONS } from '../../src/api/batch/versions.js';
import { DEV_STORAGE } from '../../src/config/config.js';
import { addPoolAndWait, poolSpec, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { signedRequest, type SignedResponse } from '../../src/testkit/signed-request.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

const V7 = 'api-version=2018-08-01.7.0';
const V8 = 'api-version=2018-12-01.8.0';
const V9 = 'api-version=2019-06-01.9.0';
const V10 = 'api-version=2019-08-01.10.0';
const V11 = 'api-version=2020-03-01.11.0';
const V12 = 'api-version=2020-09-01.12.0';
const V14 = 'api-version=2021-06-01.14.0';
const V15 = 'api-version=2022-01-01.15.0';
const V16 = 'api-version=2022-10-01.16.0';
const V17 = 'api-version=2023-05-01.17.0';

let server: TestServer;
/** A pool with one idle node, shared by the tests that run tasks. */
let nodePoolId: string;

before(async () => {
  server = await startTestServer();
  nodePoolId = uniqueId('OldVersions');
  await addPoolAndWait(server.batch, nodePoolId, { targetDedicatedNodes: 1, taskSlotsPerNode: 4 });
});

after(async () => {
  await server?.stop();
});

/** A blob holding `text`, readable through the returned SAS URL. */
async function blobWithSas(name: string, text: string): Promise<string> {
  const container = server.blob.getContainerClient('old-versions');
  await container.createIfNotExists();
  const blob = container.getBlockBlobClient(name);
  await blob.upload(text, Buffer.byteLength(text));
  const sas = generateBlobSASQueryParameters(
    { containerName: 'old-versions', blobName: name, permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3_600_000) },
    new StorageSharedKeyCredential(DEV_STORAGE.accountName, DEV_STORAGE.accountKey),
  ).toString();
  return `${blob.url}?${sas}`;
}

function assertRefusedProperty(response: SignedResponse, property: string): void {
  assert.equal(response.status, 400, response.text);
  assert.equal(response.body.code, 'InvalidRequestBody', response.text);
  assert.ok(response.body.values?.some((value) => value.key === 'Reason' && value.value.includes(`'${property}'`)), response.text);
}

function assertInvalidUri(response: SignedResponse, what: string): void {
  assert.equal(response.status, 400, `${what}: ${response.text}`);
  assert.equal(response.body.code, 'InvalidUri', what);
}

async function newJob(query: string): Promise<string> {
  const jobId = uniqueId('Job');
  const created = await signedRequest(server, 'POST', '/jobs', { query, body: JSON.stringify({ id: jobId, poolInfo: { poolId: nodePoolId } }) });
  assert.equal(created.status, 201, created.text);
  return jobId;
}

describe('@azure/batch 8.0.0 (2020-09-01.12.0)', () => {
  test('uploads inputs, creates a pool, a job and tasks, waits and reads their output', async () => {
    const batch = new BatchServiceClientV8(new BatchSharedKeyCredentialsV8(server.account.name, server.account.key), server.lapis.batchUrl);
    assert.equal(batch.apiVersion, '2020-09-01.12.0');
    const inputs = { 'taskdata0.txt': 'first input\n', 'taskdata1.txt': 'second input\n', 'taskdata2.txt': 'third input\n' };
    const resourceFiles = await Promise.all(Object.entries(inputs).map(async ([name, text]) => ({ httpUrl: await blobWithSas(uniqueId(name), text), filePath: name })));

    const images = await batch.account.listSupportedImages();
    const image = images.find((candidate) => candidate.nodeAgentSKUId === 'batch.node.ubuntu 20.04');
    assert.ok(image, 'the supported images list names the quickstart image');

    const poolId = uniqueId('V8Pool');
    await batch.pool.add({ id: poolId, vmSize: 'STANDARD_A1_v2', virtualMachineConfiguration: { imageReference: image.imageReference, nodeAgentSKUId: image.nodeAgentSKUId }, targetDedicatedNodes: 1, taskSlotsPerNode: 2 });
    const pool = await waitFor(async () => {
      const current = await batch.pool.get(poolId);
      return current.allocationState === 'steady' && current.currentDedicatedNodes === 1 ? current : undefined;
    });
    assert.equal(pool.taskSlotsPerNode, 2);

    const jobId = uniqueId('V8Job');
    await batch.job.add({ id: jobId, poolInfo: { poolId } });
    const added = await batch.task.addCollection(
      jobId,
      resourceFiles.map((file, index) => ({ id: `Task${index}`, commandLine: `/bin/cat ${file.filePath}`, resourceFiles: [file], requiredSlots: 1 })),
    );
    assert.ok(added.value?.every((result) => result.status === 'success'), JSON.stringify(added.value));

    await waitFor(async () => {
      const tasks = await batch.task.list(jobId);
      return tasks.length === 3 && tasks.every((task) => task.state === 'completed') ? true : undefined;
    }, { what: 'the three tasks complete' });
    const counts = await batch.job.getTaskCounts(jobId);
    assert.deepEqual({ ...counts.taskCounts }, { active: 0, running: 0, completed: 3, succeeded: 3, failed: 0 });
    assert.equal(counts.taskSlotCounts.completed, 3);

    for (const [index, text] of Object.values(inputs).entries()) {
      const task = await batch.task.get(jobId, `Task${index}`);
      assert.equal(task.executionInfo?.exitCode, 0);
      assert.equal(task.requiredSlots, 1);
      const output = await batch.file.getFromTask(jobId, `Task${index}`, 'stdout.txt');
      assert.equal(await readStream(output.readableStreamBody), text);
    }

    await batch.job.deleteMethod(jobId);
    await batch.pool.deleteMethod(poolId);
  });
});

describe('versions', () => {
  test('every stable version from 2018-08-01.7.0 on is accepted', async () => {
    assert.equal(SUPPORTED_API_VERSIONS.length, 13);
    for (const version of SUPPORTED_API_VERSIONS) {
      const response = await signedRequest(server, 'GET', '/pools', { query: `api-version=${version}` });
      assert.equal(response.status, 200, `${version}: ${response.text}`);
    }
  });

  test('UnsupportedRequestVersion names the accepted versions', async () => {
    const response = await signedRequest(server, 'GET', '/pools', { query: 'api-version=2018-03-01.6.1' });
    assert.equal(response.status, 400);
    assert.equal(response.body.code, 'UnsupportedRequestVersion');
    for (const version of SUPPORTED_API_VERSIONS) assert.ok(response.body.message?.value?.includes(version), response.text);
    assert.equal(response.body.values?.find((value) => value.key === 'SupportedVersions')?.value, SUPPORTED_API_VERSIONS.join(', '));
  });
});

describe('operations added and removed', () => {
  test('node agent SKUs until 2019-06-01.9.0, supported images from it', async () => {
    for (const query of [V7, V8]) {
      const skus = await signedRequest(server, 'GET', '/nodeagentskus', { query });
      assert.equal(skus.status, 200, skus.text);
      const ubuntu = (skus.body.value as { id: string; osType: string; verifiedImageReferences: { offer: string }[] }[]).find((sku) => sku.id === 'batch.node.ubuntu 20.04');
      assert.equal(ubuntu?.osType, 'linux');
      assert.equal(ubuntu?.verifiedImageReferences[0]?.offer, '0001-com-ubuntu-server-focal');
      assertInvalidUri(await signedRequest(server, 'GET', '/supportedimages', { query }), `supportedimages ${query}`);
    }
    const filtered = await signedRequest(server, 'GET', '/nodeagentskus', { query: `${V8}&$filter=${encodeURIComponent("osType eq 'windows'")}` });
    assert.deepEqual(filtered.body.value, []);
    for (const query of [V9, V16]) {
      assertInvalidUri(await signedRequest(server, 'GET', '/nodeagentskus', { query }), `nodeagentskus ${query}`);
      assert.equal((await signedRequest(server, 'GET', '/supportedimages', { query })).status, 200);
    }
  });

  test('node extensions from 2021-06-01.14.0; lifetime statistics until 2023-05-01.17.0', async () => {
    const nodeId = (await server.batch.computeNode.list(nodePoolId))[0]?.id as string;
    const extensions = `/pools/${nodePoolId}/nodes/${nodeId}/extensions`;
    assertInvalidUri(await signedRequest(server, 'GET', extensions, { query: V12 }), 'extensions at 12.0');
    assert.equal((await signedRequest(server, 'GET', extensions, { query: V14 })).status, 200);
    assert.equal((await signedRequest(server, 'GET', '/lifetimepoolstats', { query: V7 })).status, 200);
    assertInvalidUri(await signedRequest(server, 'GET', '/lifetimepoolstats', { query: V17 }), 'lifetime statistics at 17.0');
  });
});

describe('properties by version', () => {
  test('before 2020-09-01.12.0 a pool has maxTasksPerNode, not taskSlotsPerNode', async () => {
    const id = uniqueId('MaxTasks');
    const created = await signedRequest(server, 'POST', '/pools', { query: V11, body: JSON.stringify({ ...poolSpec(id, { targetDedicatedNodes: 0 }), maxTasksPerNode: 3 }) });
    assert.equal(created.status, 201, created.text);
    const old = await signedRequest(server, 'GET', `/pools/${id}`, { query: V11 });
    assert.equal(old.body.maxTasksPerNode, 3);
    assert.equal(old.body.taskSlotsPerNode, undefined);
    const listed = await signedRequest(server, 'GET', '/pools', { query: `${V11}&$filter=${encodeURIComponent(`id eq '${id}'`)}` });
    assert.equal((listed.body.value as { maxTasksPerNode?: number }[])[0]?.maxTasksPerNode, 3);
    const selected = await signedRequest(server, 'GET', `/pools/${id}`, { query: `${V11}&$select=id,maxTasksPerNode` });
    assert.deepEqual({ ...selected.body, 'odata.metadata': undefined }, { 'odata.metadata': undefined, id, maxTasksPerNode: 3 });
    assert.equal((await server.batch.pool.get(id)).taskSlotsPerNode, 3, 'the primary version reads it as taskSlotsPerNode');

    const refusedId = uniqueId('Slots');
    assertRefusedProperty(
      await signedRequest(server, 'POST', '/pools', { query: V11, body: JSON.stringify({ ...poolSpec(refusedId, { targetDedicatedNodes: 0 }), taskSlotsPerNode: 3 }) }),
      'taskSlotsPerNode',
    );
    assert.equal((await signedRequest(server, 'GET', `/pools/${refusedId}`, { query: V11 })).status, 404);
    assertRefusedProperty(
      await signedRequest(server, 'POST', '/pools', { query: V12, body: JSON.stringify({ ...poolSpec(refusedId, { targetDedicatedNodes: 0 }), maxTasksPerNode: 3 }) }),
      'maxTasksPerNode',
    );
  });

  test('the renamed property is found however deep it sits: a schedule\'s auto pool', async () => {
    const id = uniqueId('Schedule');
    const pool = { ...poolSpec(uniqueId('Auto'), { targetDedicatedNodes: 0 }), id: undefined, maxTasksPerNode: 2 };
    const body = {
      id,
      schedule: { doNotRunUntil: new Date(Date.now() + 3_600_000).toISOString() },
      jobSpecification: { poolInfo: { autoPoolSpecification: { poolLifetimeOption: 'job', pool } } },
    };
    const created = await signedRequest(server, 'POST', '/jobschedules', { query: V11, body: JSON.stringify(body) });
    assert.equal(created.status, 201, created.text);
    const autoPool = (response: SignedResponse) =>
      ((response.body.jobSpecification as { poolInfo: { autoPoolSpecification: { pool: Record<string, unknown> } } }).poolInfo.autoPoolSpecification.pool);
    const old = autoPool(await signedRequest(server, 'GET', `/jobschedules/${id}`, { query: V11 }));
    assert.equal(old.maxTasksPerNode, 2);
    assert.equal(old.taskSlotsPerNode, undefined);
    const listed = await signedRequest(server, 'GET', '/jobschedules', { query: `${V11}&$select=id,jobSpecification` });
    assert.ok(listed.text.includes('"maxTasksPerNode":2'), listed.text);
    assert.equal(autoPool(await signedRequest(server, 'GET', `/jobschedules/${id}`, { query: V16 })).taskSlotsPerNode, 2);
  });

  test('before 2020-09-01.12.0 tasks have no requiredSlots and task counts come without slots', async () => {
    const jobId = await newJob(V11);
    assertRefusedProperty(
      await signedRequest(server, 'POST', `/jobs/${jobId}/tasks`, { query: V11, body: JSON.stringify({ id: 'slots', commandLine: '/bin/true', requiredSlots: 2 }) }),
      'requiredSlots',
    );
    const collection = await signedRequest(server, 'POST', `/jobs/${jobId}/addtaskcollection`, {
      query: V11,
      body: JSON.stringify({ value: [{ id: 'plain', commandLine: '/bin/true' }, { id: 'slotted', commandLine: '/bin/true', requiredSlots: 1 }] }),
    });
    assertRefusedProperty(collection, 'value[1].requiredSlots');
    assert.equal((await signedRequest(server, 'POST', `/jobs/${jobId}/tasks`, { query: V11, body: JSON.stringify({ id: 'plain', commandLine: '/bin/true' }) })).status, 201);
    await waitForTaskState(server.batch, jobId, 'plain', 'completed');

    const task = await signedRequest(server, 'GET', `/jobs/${jobId}/tasks/plain`, { query: V11 });
    assert.equal(task.body.requiredSlots, undefined, task.text);
    assert.equal((await signedRequest(server, 'GET', `/jobs/${jobId}/tasks/plain`, { query: V12 })).body.requiredSlots, 1);
    const node = await signedRequest(server, 'GET', `/pools/${nodePoolId}/nodes`, { query: V11 });
    assert.ok((node.body.value as object[]).every((entry) => !('runningTaskSlotsCount' in entry)), node.text);

    const oldCounts = await signedRequest(server, 'GET', `/jobs/${jobId}/taskcounts`, { query: V11 });
    assert.equal(oldCounts.status, 200, oldCounts.text);
    assert.equal(oldCounts.body.completed, 1);
    assert.equal(oldCounts.body.succeeded, 1);
    assert.equal(oldCounts.body.taskSlotCounts, undefined);
    const newCounts = await signedRequest(server, 'GET', `/jobs/${jobId}/taskcounts`, { query: V12 });
    assert.equal((newCounts.body.taskCounts as { completed: number }).completed, 1);
  });

  test('2018-08-01.7.0 resource files name their blob blobSource; their tasks are kept without limit', async () => {
    const url = await blobWithSas(uniqueId('seven.txt'), 'from blobSource\n');
    const jobId = await newJob(V7);
    assertRefusedProperty(
      await signedRequest(server, 'POST', `/jobs/${jobId}/tasks`, {
        query: V7,
        body: JSON.stringify({ id: 'modern', commandLine: '/bin/cat in.txt', resourceFiles: [{ httpUrl: url, filePath: 'in.txt' }] }),
      }),
      'resourceFiles[0].httpUrl',
    );
    const added = await signedRequest(server, 'POST', `/jobs/${jobId}/tasks`, {
      query: V7,
      body: JSON.stringify({ id: 'seven', commandLine: '/bin/cat in.txt', resourceFiles: [{ blobSource: url, filePath: 'in.txt' }] }),
    });
    assert.equal(added.status, 201, added.text);
    await waitForTaskState(server.batch, jobId, 'seven', 'completed');
    const output = await server.batch.file.getFromTask(jobId, 'seven', 'stdout.txt');
    assert.equal(await readStream(output.readableStreamBody), 'from blobSource\n');

    const old = await signedRequest(server, 'GET', `/jobs/${jobId}/tasks/seven`, { query: V7 });
    assert.deepEqual(old.body.resourceFiles, [{ blobSource: url, filePath: 'in.txt' }]);
    assert.equal((old.body.constraints as { retentionTime: string }).retentionTime, 'P10675199DT2H48M5.4775807S');
    const current = await server.batch.task.get(jobId, 'seven');
    assert.equal(current.resourceFiles?.[0]?.httpUrl, url);

    await signedRequest(server, 'POST', `/jobs/${jobId}/tasks`, { query: V8, body: JSON.stringify({ id: 'eight', commandLine: '/bin/true' }) });
    const eight = await signedRequest(server, 'GET', `/jobs/${jobId}/tasks/eight`, { query: V8 });
    assert.equal((eight.body.constraints as { retentionTime: string }).retentionTime, 'P7D');
  });

  test('bad input to an old version is a Batch error', async () => {
    const jobId = await newJob(V7);
    const bodies: unknown[] = [
      { id: 'late', commandLine: '/bin/true', constraints: 'soon' },
      { id: 'files', commandLine: '/bin/true', resourceFiles: 5 },
      { id: 'source', commandLine: '/bin/true', resourceFiles: [{ blobSource: 7, filePath: 'x' }] },
      { id: 'nulls', commandLine: '/bin/true', constraints: null, resourceFiles: [null] },
      [{ id: 'array' }],
    ];
    for (const body of bodies) {
      const response = await signedRequest(server, 'POST', `/jobs/${jobId}/tasks`, { query: V7, body: JSON.stringify(body) });
      assert.equal(response.status, 400, `${JSON.stringify(body)}: ${response.text}`);
      assert.ok(['InvalidPropertyValue', 'InvalidRequestBody', 'MissingRequiredProperty'].includes(response.body.code ?? ''), response.text);
    }
  });

  test('before 2019-08-01.10.0 a start task does not wait for success unless asked', async () => {
    const startTask = { commandLine: '/bin/true' };
    const nine = uniqueId('Nine');
    const ten = uniqueId('Ten');
    assert.equal((await signedRequest(server, 'POST', '/pools', { query: V9, body: JSON.stringify({ ...poolSpec(nine, { targetDedicatedNodes: 0 }), startTask }) })).status, 201);
    assert.equal((await signedRequest(server, 'POST', '/pools', { query: V10, body: JSON.stringify({ ...poolSpec(ten, { targetDedicatedNodes: 0 }), startTask }) })).status, 201);
    assert.equal((await server.batch.pool.get(nine)).startTask?.waitForSuccess, false);
    assert.notEqual((await server.batch.pool.get(ten)).startTask?.waitForSuccess, false);
  });

  test('job properties arrive with their versions: maxParallelTasks in 14.0, allowTaskPreemption in 15.0', async () => {
    const job = (id: string, extra: object) => JSON.stringify({ id, poolInfo: { poolId: nodePoolId }, ...extra });
    assertRefusedProperty(await signedRequest(server, 'POST', '/jobs', { query: V12, body: job(uniqueId('Job'), { maxParallelTasks: 2 }) }), 'maxParallelTasks');
    const parallel = uniqueId('Job');
    assert.equal((await signedRequest(server, 'POST', '/jobs', { query: V14, body: job(parallel, { maxParallelTasks: 2 }) })).status, 201);
    assert.equal((await signedRequest(server, 'GET', `/jobs/${parallel}`, { query: V14 })).body.maxParallelTasks, 2);
    assert.equal((await signedRequest(server, 'GET', `/jobs/${parallel}`, { query: V12 })).body.maxParallelTasks, undefined);
    assertRefusedProperty(await signedRequest(server, 'PATCH', `/jobs/${parallel}`, { query: V14, body: JSON.stringify({ allowTaskPreemption: true }) }), 'allowTaskPreemption');
    assert.equal((await signedRequest(server, 'PATCH', `/jobs/${parallel}`, { query: V15, body: JSON.stringify({ allowTaskPreemption: true }) })).status, 200);
  });

  test('properties of versions after the primary one are refused by older ones', async () => {
    const id = uniqueId('Tags');
    const body = JSON.stringify({ ...poolSpec(id, { targetDedicatedNodes: 0 }), resourceTags: { team: 'lapis' } });
    assertRefusedProperty(await signedRequest(server, 'POST', '/pools', { query: V15, body }), 'resourceTags');
    assert.equal((await signedRequest(server, 'POST', '/pools', { query: 'api-version=2023-11-01.18.0', body })).status, 201);
    const old = await signedRequest(server, 'GET', `/pools/${id}`, { query: V15 });
    assert.equal(old.status, 200);
    assert.equal(old.body.resourceTags, undefined);
    assert.equal(old.body.targetNodeCommunicationMode, undefined);
  });
});
