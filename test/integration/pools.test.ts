import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, batchError, poolSpec, uniqueId, waitForPoolSteady, waitForTaskState } from '../../src/testkit/builders.js';
import { errorDetail, signedRequest } from '../../src/testkit/signed-request.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

describe('Pool_Add and Pool_Get', () => {
  test('a new pool reports Batch defaults and reaches its target with idle nodes', async () => {
    const id = uniqueId('Pool');
    await server.batch.pool.add(poolSpec(id, { targetDedicatedNodes: 2, metadata: [{ name: 'team', value: 'lapis' }] }));
    const pool = await waitForPoolSteady(server.batch, id);
    assert.equal(pool.id, id);
    assert.equal(pool.url, `${server.lapis.batchUrl}/pools/${id}`);
    assert.equal(pool.state, 'active');
    assert.equal(pool.vmSize, 'standard_ds1_v2');
    assert.equal(pool.targetDedicatedNodes, 2);
    assert.equal(pool.currentDedicatedNodes, 2);
    assert.equal(pool.taskSlotsPerNode, 1);
    assert.equal(pool.taskSchedulingPolicy?.nodeFillType, 'spread');
    assert.equal(pool.resizeTimeout, 'PT15M');
    assert.equal(pool.enableAutoScale, false);
    assert.deepEqual(pool.metadata, [{ name: 'team', value: 'lapis' }]);
    assert.match(pool.eTag ?? '', /^0x[0-9A-F]{15}$/);
    assert.ok(pool.creationTime instanceof Date);
    const nodes = await server.batch.computeNode.list(id);
    assert.equal(nodes.length, 2);
    for (const node of nodes) {
      assert.match(node.id ?? '', /^tvmps_[0-9a-f]{64}_d$/);
      assert.equal(node.state, 'idle');
      assert.equal(node.schedulingState, 'enabled');
      assert.equal(node.isDedicated, true);
      assert.equal(node.affinityId, `TVM:${node.id}`);
      assert.equal(node.url, `${server.lapis.batchUrl}/pools/${id}/nodes/${node.id}`);
      const fetched = await server.batch.computeNode.get(id, node.id as string);
      assert.equal(fetched.id, node.id);
    }
  });

  test('ids are unique without regard to case, and lookups ignore case', async () => {
    const id = uniqueId('CasePool');
    await server.batch.pool.add(poolSpec(id, { targetDedicatedNodes: 0 }));
    await assert.rejects(server.batch.pool.add(poolSpec(id.toUpperCase(), { targetDedicatedNodes: 0 })), batchError('PoolExists', 409));
    const pool = await server.batch.pool.get(id.toLowerCase());
    assert.equal(pool.id, id, 'the id keeps the case it was created with');
  });

  test('a missing pool is PoolNotFound; exists answers true or false', async () => {
    await assert.rejects(server.batch.pool.get('no-such-pool'), batchError('PoolNotFound', 404));
    assert.equal((await server.batch.pool.exists('no-such-pool')).body, false);
    const id = uniqueId('Exists');
    await server.batch.pool.add(poolSpec(id, { targetDedicatedNodes: 0 }));
    assert.equal((await server.batch.pool.exists(id)).body, true);
  });

  // The SDK itself refuses a missing vmSize or a malformed duration before sending; auth-and-errors.test.ts sends that raw.
  test('invalid pools are refused and nothing is created', async () => {
    const id = uniqueId('Bad');
    await assert.rejects(server.batch.pool.add(poolSpec(id, { targetDedicatedNodes: -1 })), batchError('InvalidPropertyValue', 400));
    await assert.rejects(server.batch.pool.add(poolSpec('bad id')), batchError('InvalidPropertyValue', 400));
    assert.equal((await server.batch.pool.exists(id)).body, false);
  });

  test('mountConfiguration is refused, naming the property, wherever a pool is described; nothing is created', async () => {
    const nfs = [{ nfsMountConfiguration: { source: '10.0.0.4:/data', relativeMountPath: 'data' } }];
    const id = uniqueId('Mounts');
    const added = await signedRequest(server, 'POST', '/pools', { body: JSON.stringify({ ...poolSpec(id, { targetDedicatedNodes: 1 }), mountConfiguration: nfs }) });
    assert.equal(added.status, 400, added.text);
    assert.equal(added.body.code, 'InvalidPropertyValue');
    assert.equal(errorDetail(added.body, 'PropertyName'), 'mountConfiguration');
    assert.match(errorDetail(added.body, 'Reason') ?? '', /do not mount file systems.*resource files/);
    assert.equal((await server.batch.pool.exists(id)).body, false);

    const jobId = uniqueId('AutoMounts');
    const autoPool = { autoPoolIdPrefix: 'mnt', poolLifetimeOption: 'job', pool: { ...poolSpec('unused', { targetDedicatedNodes: 1 }), id: undefined, mountConfiguration: nfs } };
    const job = await signedRequest(server, 'POST', '/jobs', { body: JSON.stringify({ id: jobId, poolInfo: { autoPoolSpecification: autoPool } }) });
    assert.equal(job.status, 400, job.text);
    assert.equal(errorDetail(job.body, 'PropertyName'), 'poolInfo.autoPoolSpecification.pool.mountConfiguration');
    assert.equal((await server.batch.job.list()).find((listed) => listed.id === jobId), undefined);

    const empty = uniqueId('EmptyMounts');
    await addPoolAndWait(server.batch, empty, { targetDedicatedNodes: 0 });
    const patched = await signedRequest(server, 'PATCH', `/pools/${empty}`, { query: 'api-version=2024-07-01.20.0', body: JSON.stringify({ mountConfiguration: nfs }) });
    assert.equal(patched.status, 400, patched.text);
    assert.equal(errorDetail(patched.body, 'PropertyName'), 'mountConfiguration');
    assert.equal((await server.batch.pool.get(empty)).mountConfiguration, undefined);
  });

  test('$select returns only the named properties', async () => {
    const id = uniqueId('Select');
    await server.batch.pool.add(poolSpec(id, { targetDedicatedNodes: 0 }));
    const pool = await server.batch.pool.get(id, { poolGetOptions: { select: 'id,state' } });
    assert.equal(pool.id, id);
    assert.equal(pool.state, 'active');
    assert.equal(pool.vmSize, undefined);
    assert.equal(pool.allocationState, undefined);
  });

  test('If-None-Match with the current ETag answers 304; If-Match with an old one 412', async () => {
    const id = uniqueId('Etag');
    await server.batch.pool.add(poolSpec(id, { targetDedicatedNodes: 0 }));
    const pool = await waitForPoolSteady(server.batch, id);
    await assert.rejects(server.batch.pool.get(id, { poolGetOptions: { ifNoneMatch: pool.eTag } }), (error: unknown) => (error as { statusCode?: number }).statusCode === 304);
    await assert.rejects(
      server.batch.pool.resize(id, { targetDedicatedNodes: 1 }, { poolResizeOptions: { ifMatch: '0x8D0000000000000' } }),
      batchError('ConditionNotMet', 412),
    );
  });
});

describe('Pool_List', () => {
  test('lists the account\'s pools, paging with maxresults and odata.nextLink', async () => {
    const ids = [uniqueId('ListA'), uniqueId('ListB'), uniqueId('ListC')];
    for (const id of ids) await server.batch.pool.add(poolSpec(id, { targetDedicatedNodes: 0 }));
    const firstPage = await server.batch.pool.list({ poolListOptions: { maxResults: 2 } });
    assert.equal(firstPage.length, 2);
    assert.ok(firstPage.odatanextLink?.startsWith(`${server.lapis.batchUrl}/pools?`));
    const all = [...firstPage];
    let next = firstPage.odatanextLink;
    while (next) {
      const page = await server.batch.pool.listNext(next);
      all.push(...page);
      next = page.odatanextLink;
    }
    const listed = new Set(all.map((pool) => pool.id));
    for (const id of ids) assert.ok(listed.has(id), id);
    assert.equal(listed.size, all.length, 'no pool is listed twice across pages');
  });
});

describe('Pool_Resize, Pool_StopResize, Pool_Delete', () => {
  test('resizing up and down adds and removes nodes', async () => {
    const id = uniqueId('Resize');
    await addPoolAndWait(server.batch, id, { targetDedicatedNodes: 1 });
    await server.batch.pool.resize(id, { targetDedicatedNodes: 3 });
    let pool = await waitForPoolSteady(server.batch, id);
    assert.equal(pool.currentDedicatedNodes, 3);
    assert.equal((await server.batch.computeNode.list(id)).length, 3);
    await server.batch.pool.resize(id, { targetDedicatedNodes: 1 });
    pool = await waitFor(async () => {
      const current = await server.batch.pool.get(id);
      return current.allocationState === 'steady' && (await server.batch.computeNode.list(id)).length === 1 ? current : undefined;
    });
    assert.equal(pool.currentDedicatedNodes, 1);
  });

  test('a resize while resizing is PoolBeingResized; stopResize settles it and records ResizeStopped', async () => {
    const id = uniqueId('Stop');
    await server.batch.pool.add(poolSpec(id, { targetDedicatedNodes: 0 }));
    await waitForPoolSteady(server.batch, id);
    await assert.rejects(server.batch.pool.stopResize(id), batchError('PoolNotResizing', 409));
    await server.batch.pool.resize(id, { targetDedicatedNodes: 4 });
    await assert.rejects(server.batch.pool.resize(id, { targetDedicatedNodes: 2 }), batchError('PoolBeingResized', 409));
    await server.batch.pool.stopResize(id);
    const pool = await waitForPoolSteady(server.batch, id);
    assert.equal(pool.resizeErrors?.[0]?.code, 'ResizeStopped');
    assert.ok((pool.currentDedicatedNodes ?? 0) <= 4);
  });

  test('deleting a pool removes its nodes and then the pool; further changes are PoolBeingDeleted', async () => {
    const id = uniqueId('Delete');
    await addPoolAndWait(server.batch, id, { targetDedicatedNodes: 2 });
    await server.batch.pool.deleteMethod(id);
    await assert.rejects(server.batch.pool.resize(id, { targetDedicatedNodes: 1 }), (error: unknown) => {
      const code = (error as { code?: string }).code;
      return code === 'PoolBeingDeleted' || code === 'PoolNotFound';
    });
    await waitFor(async () => ((await server.batch.pool.exists(id)).body ? undefined : true), { what: 'the pool to disappear' });
    await assert.rejects(server.batch.pool.deleteMethod(id), batchError('PoolNotFound', 404));
  });

  test('a pool deleted while its nodes are still starting goes away', async () => {
    const id = uniqueId('DeleteStarting');
    await server.batch.pool.add(poolSpec(id, { targetDedicatedNodes: 2 }));
    await server.batch.pool.deleteMethod(id);
    await waitFor(async () => ((await server.batch.pool.exists(id)).body ? undefined : true), { timeoutMs: 15_000, what: 'the pool to disappear' });
  });
});

describe('a pool deleted under running tasks', () => {
  test('its tasks\' processes end and the tasks go back to the queue as a requeue, not a retry', async () => {
    const id = uniqueId('Busy');
    await addPoolAndWait(server.batch, id, { targetDedicatedNodes: 1 });
    const jobId = uniqueId('BusyJob');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId: id } });
    await server.batch.task.add(jobId, { id: 'sleeper', commandLine: '/bin/sleep 60' });
    await waitForTaskState(server.batch, jobId, 'sleeper', 'running');
    await server.batch.pool.deleteMethod(id);
    const task = await waitForTaskState(server.batch, jobId, 'sleeper', 'active');
    assert.equal(task.executionInfo?.requeueCount, 1);
    assert.equal(task.executionInfo?.retryCount, 0);
    await waitFor(async () => ((await server.batch.pool.exists(id)).body ? undefined : true), { what: 'the pool to disappear' });
  });
});

describe('Account_ListSupportedImages', () => {
  test('lists the images a local node stands in for, including the quickstart\'s', async () => {
    const images = await server.batch.account.listSupportedImages();
    const focal = images.find((image) => image.nodeAgentSKUId === 'batch.node.ubuntu 20.04');
    assert.equal(focal?.imageReference?.offer, '0001-com-ubuntu-server-focal');
    assert.equal(focal?.osType, 'linux');
  });
});
