import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, batchError, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
let poolId: string;
before(async () => {
  server = await startTestServer();
  poolId = uniqueId('JobsPool');
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 2 });
});
after(async () => {
  await server.stop();
});

describe('Job_Add, Job_Get, Job_List', () => {
  test('a new job reports Batch defaults', async () => {
    const id = uniqueId('Job');
    await server.batch.job.add({ id, poolInfo: { poolId } });
    const job = await server.batch.job.get(id);
    assert.equal(job.id, id);
    assert.equal(job.url, `${server.lapis.batchUrl}/jobs/${id}`);
    assert.equal(job.state, 'active');
    assert.equal(job.priority, 0);
    assert.equal(job.maxParallelTasks, -1);
    assert.equal(job.usesTaskDependencies, false);
    assert.equal(job.onAllTasksComplete, 'noaction');
    assert.equal(job.onTaskFailure, 'noaction');
    assert.equal(job.constraints?.maxTaskRetryCount, 0);
    assert.equal(job.constraints?.maxWallClockTime, 'P10675199DT2H48M5.4775807S');
    assert.equal(job.poolInfo?.poolId, poolId);
    assert.equal(job.executionInfo?.poolId, poolId);
    assert.ok(job.executionInfo?.startTime instanceof Date);
  });

  test('duplicate ids in any case are JobExists; unknown ids JobNotFound', async () => {
    const id = uniqueId('DupJob');
    await server.batch.job.add({ id, poolInfo: { poolId } });
    await assert.rejects(server.batch.job.add({ id: id.toUpperCase(), poolInfo: { poolId } }), batchError('JobExists', 409));
    await assert.rejects(server.batch.job.get('no-such-job'), batchError('JobNotFound', 404));
    await assert.rejects(server.batch.job.terminate('no-such-job'), batchError('JobNotFound', 404));
    await assert.rejects(server.batch.job.deleteMethod('no-such-job'), batchError('JobNotFound', 404));
  });

  test('a job may name a pool that does not exist; its tasks wait', async () => {
    const id = uniqueId('Orphan');
    await server.batch.job.add({ id, poolInfo: { poolId: 'not-a-pool' } });
    await server.batch.task.add(id, { id: 't', commandLine: '/bin/true' });
    assert.equal((await server.batch.task.get(id, 't')).state, 'active');
  });

  test('out-of-range priority is InvalidPropertyValue', async () => {
    await assert.rejects(server.batch.job.add({ id: uniqueId('Prio'), priority: 5000, poolInfo: { poolId } }), batchError('InvalidPropertyValue', 400));
  });

  test('lists jobs with paging', async () => {
    const ids = [uniqueId('ListJobA'), uniqueId('ListJobB')];
    for (const id of ids) await server.batch.job.add({ id, poolInfo: { poolId } });
    const all = [];
    let page = await server.batch.job.list({ jobListOptions: { maxResults: 1 } });
    all.push(...page);
    while (page.odatanextLink) {
      page = await server.batch.job.listNext(page.odatanextLink);
      all.push(...page);
    }
    for (const id of ids) assert.ok(all.some((job) => job.id === id), id);
  });
});

describe('Job_Terminate', () => {
  test('ends running tasks and completes the job with the reason given', async () => {
    const id = uniqueId('Term');
    await server.batch.job.add({ id, poolInfo: { poolId } });
    await server.batch.task.add(id, { id: 'sleeper', commandLine: '/bin/sleep 60' });
    await waitForTaskState(server.batch, id, 'sleeper', 'running');
    await server.batch.job.terminate(id, { terminateReason: 'NoLongerNeeded' });
    const job = await waitFor(async () => {
      const current = await server.batch.job.get(id);
      return current.state === 'completed' ? current : undefined;
    });
    assert.equal(job.executionInfo?.terminateReason, 'NoLongerNeeded');
    assert.ok(job.executionInfo?.endTime instanceof Date);
    const task = await server.batch.task.get(id, 'sleeper');
    assert.equal(task.state, 'completed');
    assert.equal(task.executionInfo?.result, 'failure');
    assert.equal(task.executionInfo?.failureInfo?.code, 'TaskEnded');
    await assert.rejects(server.batch.task.add(id, { id: 'late', commandLine: '/bin/true' }), batchError('JobCompleted', 409));
    await assert.rejects(server.batch.job.terminate(id), batchError('JobCompleted', 409));
  });

  test('the default reason is UserTerminate', async () => {
    const id = uniqueId('TermDefault');
    await server.batch.job.add({ id, poolInfo: { poolId } });
    await server.batch.job.terminate(id);
    const job = await waitFor(async () => {
      const current = await server.batch.job.get(id);
      return current.state === 'completed' ? current : undefined;
    });
    assert.equal(job.executionInfo?.terminateReason, 'UserTerminate');
  });

  async function completedJob(id: string) {
    return waitFor(async () => {
      const current = await server.batch.job.get(id);
      return current.state === 'completed' ? current : undefined;
    });
  }

  test('onAllTasksComplete=terminatejob completes the job when its tasks are done', async () => {
    // Batch's pattern: add the tasks, then set terminatejob (a job without tasks would end at once).
    const id = uniqueId('AutoDone');
    await server.batch.job.add({ id, poolInfo: { poolId } });
    await server.batch.task.addCollection(id, [
      { id: 'a', commandLine: '/bin/true' },
      { id: 'b', commandLine: '/bin/true' },
    ]);
    await server.batch.job.patch(id, { onAllTasksComplete: 'terminatejob' });
    assert.equal((await completedJob(id)).executionInfo?.terminateReason, 'AllTasksComplete');
  });

  test('a job with no tasks has all its tasks complete: terminatejob ends it, when added so and when patched or updated so', async () => {
    const added = uniqueId('EmptyAdded');
    await server.batch.job.add({ id: added, poolInfo: { poolId }, onAllTasksComplete: 'terminatejob' });
    assert.equal((await completedJob(added)).executionInfo?.terminateReason, 'AllTasksComplete');

    const patched = uniqueId('EmptyPatched');
    await server.batch.job.add({ id: patched, poolInfo: { poolId } });
    await server.batch.job.patch(patched, { onAllTasksComplete: 'terminatejob' });
    assert.equal((await completedJob(patched)).executionInfo?.terminateReason, 'AllTasksComplete');

    const updated = uniqueId('EmptyUpdated');
    await server.batch.job.add({ id: updated, poolInfo: { poolId } });
    await server.batch.job.update(updated, { poolInfo: { poolId }, onAllTasksComplete: 'terminatejob' });
    assert.equal((await completedJob(updated)).executionInfo?.terminateReason, 'AllTasksComplete');

    // A job manager is a task: the job ends when it does, not before.
    const managed = uniqueId('Managed');
    await server.batch.job.add({ id: managed, poolInfo: { poolId }, onAllTasksComplete: 'terminatejob', jobManagerTask: { id: 'manager', commandLine: '/bin/sleep 1', killJobOnCompletion: false } });
    assert.equal((await server.batch.job.get(managed)).state, 'active');
    assert.equal((await completedJob(managed)).executionInfo?.terminateReason, 'AllTasksComplete');
  });
});

describe('Job_Delete', () => {
  test('removes the job, its tasks and their running processes', async () => {
    const id = uniqueId('Del');
    await server.batch.job.add({ id, poolInfo: { poolId } });
    await server.batch.task.add(id, { id: 'sleeper', commandLine: '/bin/sleep 60' });
    await waitForTaskState(server.batch, id, 'sleeper', 'running');
    await server.batch.job.deleteMethod(id);
    await waitFor(async () => {
      try {
        await server.batch.job.get(id);
        return undefined;
      } catch (error) {
        return (error as { code?: string }).code === 'JobNotFound' ? true : undefined;
      }
    });
    await assert.rejects(server.batch.task.get(id, 'sleeper'), batchError('JobNotFound', 404));
    // The node's slot is free again: it goes back to idle.
    await waitFor(async () => {
      const nodes = await server.batch.computeNode.list(poolId);
      return nodes.every((node) => node.runningTasksCount === 0) ? true : undefined;
    });
  });
});
