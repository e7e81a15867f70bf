import assert from 'node:assert/strict';
import type { BatchServiceModels } from '@azure/batch';
import { after, before, describe, test } from 'node:test';
import { batchError, poolSpec, uniqueId, waitForPoolSteady, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

function autoPool(overrides: Partial<BatchServiceModels.AutoPoolSpecification> = {}): BatchServiceModels.AutoPoolSpecification {
  const { id: _assigned, ...pool } = poolSpec('unused');
  return { autoPoolIdPrefix: 'auto', poolLifetimeOption: 'job', pool, ...overrides };
}

async function poolIds(): Promise<string[]> {
  return (await server.batch.pool.list()).map((pool) => pool.id as string);
}

async function waitForPoolGone(poolId: string): Promise<void> {
  await waitFor(async () => ((await server.batch.pool.exists(poolId)).body ? undefined : true), { what: `pool ${poolId} to be deleted` });
}

async function terminateAndWait(jobId: string): Promise<void> {
  await server.batch.job.terminate(jobId);
  await waitFor(async () => ((await server.batch.job.get(jobId)).state === 'completed' ? true : undefined), { what: `job ${jobId} to complete` });
}

describe('Job_Add with an auto pool', () => {
  test('the job gets its own pool, runs its task there, and the pool goes when the job is terminated', async () => {
    const id = uniqueId('AutoJob');
    await server.batch.job.add({ id, poolInfo: { autoPoolSpecification: autoPool() } });
    const job = await server.batch.job.get(id);
    const autoPoolId = job.executionInfo?.poolId as string;
    assert.match(autoPoolId, /^auto_[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    assert.equal(job.poolInfo?.poolId, undefined);
    assert.equal(job.poolInfo?.autoPoolSpecification?.poolLifetimeOption, 'job');
    assert.equal(job.poolInfo?.autoPoolSpecification?.pool?.vmSize, 'STANDARD_DS1_V2');
    assert.ok((await poolIds()).includes(autoPoolId), 'the auto pool is an ordinary pool');

    await server.batch.task.add(id, { id: 'hello', commandLine: '/bin/echo hello' });
    const task = await waitForTaskState(server.batch, id, 'hello', 'completed');
    assert.equal(task.executionInfo?.exitCode, 0);
    assert.equal(task.nodeInfo?.poolId, autoPoolId);

    await terminateAndWait(id);
    await waitForPoolGone(autoPoolId);
  });

  test('keepAlive keeps the pool after the job ends', async () => {
    const id = uniqueId('KeepAlive');
    await server.batch.job.add({ id, poolInfo: { autoPoolSpecification: autoPool({ keepAlive: true }) } });
    const autoPoolId = (await server.batch.job.get(id)).executionInfo?.poolId as string;
    await terminateAndWait(id);
    const pool = await server.batch.pool.get(autoPoolId);
    assert.equal(pool.state, 'active');
    await server.batch.pool.deleteMethod(autoPoolId);
  });

  test('deleting the job deletes its auto pool', async () => {
    const id = uniqueId('DeleteAuto');
    await server.batch.job.add({ id, poolInfo: { autoPoolSpecification: autoPool({ autoPoolIdPrefix: undefined }) } });
    const autoPoolId = (await server.batch.job.get(id)).executionInfo?.poolId as string;
    assert.match(autoPoolId, /^[0-9A-F-]{36}$/);
    // Lapis cannot yet delete a pool whose node is still starting; let it start first.
    await waitForPoolSteady(server.batch, autoPoolId);
    await server.batch.job.deleteMethod(id);
    await waitForPoolGone(autoPoolId);
  });

  test('an invalid pool is refused naming the field, and nothing is created', async () => {
    const before = await poolIds();
    const id = uniqueId('BadAuto');
    const invalid = { ...autoPool(), pool: { ...autoPool().pool, taskSlotsPerNode: 0 } } as BatchServiceModels.AutoPoolSpecification;
    await assert.rejects(server.batch.job.add({ id, poolInfo: { autoPoolSpecification: invalid } }), (error: unknown) => {
      batchError('InvalidPropertyValue', 400)(error);
      const values = (error as { body?: { values?: { key: string; value: string }[] } }).body?.values ?? [];
      assert.ok(values.some((detail) => detail.value === 'poolInfo.autoPoolSpecification.pool.taskSlotsPerNode'), JSON.stringify(values));
      return true;
    });
    // A rule of Pool_Add's own (targets or a formula), checked after the request's shape.
    const { targetDedicatedNodes: _none, ...noTargets } = autoPool().pool as BatchServiceModels.PoolSpecification;
    await assert.rejects(server.batch.job.add({ id, poolInfo: { autoPoolSpecification: { ...autoPool(), pool: noTargets } } }), (error: unknown) => {
      batchError('MissingRequiredProperty', 400)(error);
      const values = (error as { body?: { values?: { key: string; value: string }[] } }).body?.values ?? [];
      assert.ok(values.some((detail) => detail.value === 'poolInfo.autoPoolSpecification.pool.targetDedicatedNodes'), JSON.stringify(values));
      return true;
    });
    await assert.rejects(server.batch.job.get(id), batchError('JobNotFound', 404));
    assert.deepEqual(await poolIds(), before);
  });

  test("the lifetime 'jobschedule' is refused on a job", async () => {
    const id = uniqueId('WrongLifetime');
    await assert.rejects(
      server.batch.job.add({ id, poolInfo: { autoPoolSpecification: autoPool({ poolLifetimeOption: 'jobschedule' }) } }),
      batchError('InvalidPropertyValue', 400),
    );
  });
});

describe('JobSchedule_Add with an auto pool', () => {
  test("lifetime 'jobschedule': the schedule's job runs on one pool, deleted when the schedule is", async () => {
    const id = uniqueId('AutoSchedule');
    await server.batch.jobSchedule.add({
      id,
      // A recurrence keeps the schedule active after its first job ends.
      schedule: { recurrenceInterval: 'PT1H' },
      jobSpecification: { poolInfo: { autoPoolSpecification: autoPool({ poolLifetimeOption: 'jobschedule' }) } },
    });
    const jobId = `${id}:job-1`;
    const job = await waitFor(async () => (await server.batch.job.list()).find((candidate) => candidate.id === jobId), { what: `job ${jobId}` });
    const autoPoolId = job.executionInfo?.poolId as string;
    assert.match(autoPoolId, /^auto_/);
    await server.batch.task.add(jobId, { id: 'hello', commandLine: '/bin/echo hello' });
    await waitForTaskState(server.batch, jobId, 'hello', 'completed');

    await terminateAndWait(jobId);
    assert.equal((await server.batch.pool.get(autoPoolId)).state, 'active', "the job's end leaves the schedule's pool");
    await server.batch.jobSchedule.deleteMethod(id);
    await waitForPoolGone(autoPoolId);
  });

  test('an invalid pool is refused at JobSchedule_Add naming the field', async () => {
    const { targetDedicatedNodes: _none, ...noTargets } = autoPool().pool as BatchServiceModels.PoolSpecification;
    await assert.rejects(
      server.batch.jobSchedule.add({
        id: uniqueId('BadSchedule'),
        schedule: {},
        jobSpecification: { poolInfo: { autoPoolSpecification: { ...autoPool({ poolLifetimeOption: 'jobschedule' }), pool: noTargets } } },
      }),
      (error: unknown) => {
        batchError('MissingRequiredProperty', 400)(error);
        const values = (error as { body?: { values?: { key: string; value: string }[] } }).body?.values ?? [];
        assert.ok(values.some((detail) => detail.value === 'jobSpecification.poolInfo.autoPoolSpecification.pool.targetDedicatedNodes'), JSON.stringify(values));
        return true;
      },
    );
  });
});
