// OData $filter on every list Batch filters, through @azure/batch: the store
// evaluates it (tasks, jobs, pools, nodes, job schedules) or the API does
// (files, node counts, supported images); paging keeps it; a bad filter is
// Batch's InvalidQueryParameterValue.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, batchError, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { errorDetail, signedRequest } from '../../src/testkit/signed-request.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
const poolId = uniqueId('FilterPool');
const jobId = uniqueId('FilterJob');
let createdBetween: Date;

before(async () => {
  server = await startTestServer();
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 2, taskSlotsPerNode: 4 });
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.addCollection(jobId, [
    { id: 'ok-1', commandLine: '/bin/true' },
    { id: 'ok-2', commandLine: '/bin/true' },
    { id: 'exit-3', commandLine: '/bin/sh -c "exit 3"' },
  ]);
  for (const id of ['ok-1', 'ok-2', 'exit-3']) await waitForTaskState(server.batch, jobId, id, 'completed');
  await new Promise((resolve) => setTimeout(resolve, 20));
  createdBetween = new Date();
  await new Promise((resolve) => setTimeout(resolve, 20));
  // Runs until after() ends it: this file may share its process with others (scripts/test.mjs), whose tests can come first.
  await server.batch.task.add(jobId, { id: 'sleeper', commandLine: '/bin/sleep 900' });
  await waitForTaskState(server.batch, jobId, 'sleeper', 'running');
});

after(async () => {
  await server?.batch.task.terminate(jobId, 'sleeper').catch(() => undefined);
  await server?.stop();
});

async function taskIds(filter: string): Promise<string[]> {
  return (await server.batch.task.list(jobId, { taskListOptions: { filter } })).map((task) => task.id as string).sort();
}

describe('Task_List $filter', () => {
  test('by state, result and exit code', async () => {
    assert.deepEqual(await taskIds("state eq 'completed'"), ['exit-3', 'ok-1', 'ok-2']);
    assert.deepEqual(await taskIds("state eq 'Running'"), ['sleeper'], 'enum values in any case');
    assert.deepEqual(await taskIds("executionInfo/result eq 'failure'"), ['exit-3']);
    assert.deepEqual(await taskIds("(state eq 'completed') and (executionInfo/exitCode ne 0)"), ['exit-3']);
    assert.deepEqual(await taskIds('executionInfo/exitCode eq 0'), ['ok-1', 'ok-2']);
  });

  test('by id prefix, creation time, with or and not', async () => {
    assert.deepEqual(await taskIds("startswith(id,'ok-')"), ['ok-1', 'ok-2']);
    assert.deepEqual(await taskIds(`creationTime gt datetime'${createdBetween.toISOString()}'`), ['sleeper']);
    assert.deepEqual(await taskIds("id eq 'ok-1' or id eq 'exit-3'"), ['exit-3', 'ok-1']);
    assert.deepEqual(await taskIds("not (state eq 'completed')"), ['sleeper']);
  });

  test('paging keeps the filter in odata.nextLink', async () => {
    const first = await server.batch.task.list(jobId, { taskListOptions: { filter: "state eq 'completed'", maxResults: 2 } });
    assert.equal(first.length, 2);
    assert.ok(first.odatanextLink?.includes('filter'), first.odatanextLink);
    const second = await server.batch.task.listNext(first.odatanextLink as string);
    assert.deepEqual([...first, ...second].map((task) => task.id).sort(), ['exit-3', 'ok-1', 'ok-2']);
    assert.equal(second.odatanextLink, undefined);
  });

  test('an invalid filter is InvalidQueryParameterValue naming the problem, never a 500', async () => {
    for (const filter of ["state eq 'sleeping'", 'nosuchproperty eq 1', "state eq 'active' and", "startswith(executionInfo/exitCode,'1')", "(".repeat(100)]) {
      const response = await signedRequest(server, 'GET', `/jobs/${jobId}/tasks`, {
        query: `api-version=2022-10-01.16.0&$filter=${encodeURIComponent(filter)}`,
      });
      assert.equal(response.status, 400, `${filter}: ${response.text}`);
      assert.equal(response.body.code, 'InvalidQueryParameterValue');
      assert.equal(errorDetail(response.body, 'QueryParameterName'), '$filter');
      assert.ok(errorDetail(response.body, 'Reason'), filter);
    }
    await assert.rejects(server.batch.task.list(jobId, { taskListOptions: { filter: 'bogus' } }), batchError('InvalidQueryParameterValue', 400));
  });
});

describe('$filter on the other lists', () => {
  test('jobs, pools and nodes', async () => {
    const jobs = await server.batch.job.list({ jobListOptions: { filter: `id eq '${jobId}' and state eq 'active'` } });
    assert.deepEqual(jobs.map((job) => job.id), [jobId]);
    assert.deepEqual([...(await server.batch.job.list({ jobListOptions: { filter: "state eq 'completed'" } }))], []);
    const pools = await server.batch.pool.list({ poolListOptions: { filter: "startswith(id,'FilterPool')" } });
    assert.deepEqual(pools.map((pool) => pool.id), [poolId]);
    const running = await server.batch.computeNode.list(poolId, { computeNodeListOptions: { filter: "state eq 'running'" } });
    assert.equal(running.length, 1);
    const idle = await server.batch.computeNode.list(poolId, { computeNodeListOptions: { filter: "state eq 'idle'" } });
    assert.equal(idle.length, 1);
  });

  test('job schedules, node counts, supported images and files', async () => {
    await server.batch.jobSchedule.add({ id: 'filtered-schedule', schedule: { doNotRunUntil: new Date(Date.now() + 3_600_000) }, jobSpecification: { poolInfo: { poolId } } });
    const schedules = await server.batch.jobSchedule.list({ jobScheduleListOptions: { filter: "state eq 'active'" } });
    assert.deepEqual(schedules.map((schedule) => schedule.id), ['filtered-schedule']);

    const counts = await server.batch.account.listPoolNodeCounts({ accountListPoolNodeCountsOptions: { filter: `poolId eq '${poolId}'` } });
    assert.deepEqual(counts.map((entry) => entry.poolId), [poolId]);

    const images = await server.batch.account.listSupportedImages({ accountListSupportedImagesOptions: { filter: "nodeAgentSKUId eq 'batch.node.ubuntu 20.04'" } });
    // Where container pools can run, Batch's container-ready Ubuntu 20.04 is listed too.
    assert.deepEqual(new Set(images.map((image) => image.nodeAgentSKUId)), new Set(['batch.node.ubuntu 20.04']));
    assert.ok(images.some((image) => image.imageReference?.offer === '0001-com-ubuntu-server-focal'));
    assert.ok(images.length <= 2, JSON.stringify(images));

    const files = await server.batch.file.listFromTask(jobId, 'ok-1', { fileListFromTaskOptions: { filter: "startswith(name,'std')" } });
    assert.deepEqual(files.map((file) => file.name).sort(), ['stderr.txt', 'stdout.txt']);
  });

  test('lists Batch does not filter refuse a $filter', async () => {
    const [node] = await server.batch.computeNode.list(poolId);
    const response = await signedRequest(server, 'GET', `/pools/${poolId}/nodes/${node?.id}/extensions`, {
      query: `api-version=2022-10-01.16.0&$filter=${encodeURIComponent("name eq 'x'")}`,
    });
    assert.equal(response.status, 400);
    assert.equal(response.body.code, 'InvalidQueryParameterValue');
  });
});
