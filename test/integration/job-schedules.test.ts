// Job schedules through @azure/batch: jobs created on time from the
// jobSpecification, at most one active job, start windows, disable/enable,
// terminate and delete. Recurrences are at least a minute, so the server runs
// on a ShiftedClock that each test moves forward (within SharedKey's
// 15-minute window: each test starts its own server).

import type { BatchServiceModels } from '@azure/batch';
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { addPoolAndWait, batchError, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { errorDetail, signedRequest } from '../../src/testkit/signed-request.js';
import { ShiftedClock, startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

const MINUTE = 60_000;
let server: TestServer | undefined;
let clock: ShiftedClock;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(): Promise<{ batch: TestServer['batch']; poolId: string }> {
  clock = new ShiftedClock();
  server = await startTestServer({ clock });
  const poolId = uniqueId('SchedPool');
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
  return { batch: server.batch, poolId };
}

function advance(ms: number): void {
  clock.advance(ms);
  server?.lapis.wake();
}

async function jobIds(batch: TestServer['batch'], scheduleId: string): Promise<string[]> {
  return (await batch.job.listFromJobSchedule(scheduleId)).map((job) => job.id as string).sort();
}

async function waitForJobs(batch: TestServer['batch'], scheduleId: string, count: number): Promise<string[]> {
  return waitFor(async () => {
    const ids = await jobIds(batch, scheduleId);
    return ids.length === count ? ids : undefined;
  }, { what: `${count} jobs of ${scheduleId}` });
}

async function waitForScheduleState(batch: TestServer['batch'], scheduleId: string, state: BatchServiceModels.JobScheduleState) {
  return waitFor(async () => {
    const schedule = await batch.jobSchedule.get(scheduleId);
    return schedule.state === state ? schedule : undefined;
  }, { what: `schedule ${scheduleId} to be ${state}` });
}

async function terminateAndWait(batch: TestServer['batch'], jobId: string): Promise<void> {
  await batch.job.terminate(jobId);
  await waitFor(async () => ((await batch.job.get(jobId)).state === 'completed' ? true : undefined));
}

describe('job schedules', () => {
  test('a one-off schedule creates its job at once from the specification, and completes with it', async () => {
    const { batch, poolId } = await start();
    await batch.jobSchedule.add({
      id: 'nightly',
      schedule: {},
      jobSpecification: { poolInfo: { poolId }, priority: 42, metadata: [{ name: 'from', value: 'schedule' }], constraints: { maxTaskRetryCount: 2 } },
    });
    const [jobId] = await waitForJobs(batch, 'nightly', 1);
    assert.equal(jobId, 'nightly:job-1');
    const job = await batch.job.get(jobId as string);
    assert.equal(job.priority, 42);
    assert.deepEqual(job.metadata, [{ name: 'from', value: 'schedule' }]);
    assert.equal(job.constraints?.maxTaskRetryCount, 2);
    assert.equal(job.poolInfo?.poolId, poolId);

    await batch.task.add(jobId as string, { id: 'hello', commandLine: '/bin/echo scheduled' });
    const task = await waitForTaskState(batch, jobId as string, 'hello', 'completed');
    assert.equal(task.executionInfo?.result, 'success');

    const schedule = await batch.jobSchedule.get('nightly');
    assert.equal(schedule.state, 'active');
    assert.equal(schedule.executionInfo?.recentJob?.id, 'nightly:job-1');
    assert.equal(schedule.executionInfo?.nextRunTime, undefined, 'a one-off schedule has no next run');

    await terminateAndWait(batch, jobId as string);
    const completed = await waitForScheduleState(batch, 'nightly', 'completed');
    assert.ok(completed.executionInfo?.endTime instanceof Date);
    assert.equal(await batch.jobSchedule.exists('nightly').then((reply) => reply.body), true);
  });

  test('a recurring schedule keeps one active job: a due run waits for it', async () => {
    const { batch, poolId } = await start();
    await batch.jobSchedule.add({ id: 'every', schedule: { recurrenceInterval: 'PT1M' }, jobSpecification: { poolInfo: { poolId } } });
    await waitForJobs(batch, 'every', 1);
    const first = await batch.jobSchedule.get('every');
    assert.ok(first.executionInfo?.nextRunTime instanceof Date);

    advance(MINUTE + 1000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(await jobIds(batch, 'every'), ['every:job-1'], 'job-1 is still active, so the run waits');

    await terminateAndWait(batch, 'every:job-1');
    assert.deepEqual(await waitForJobs(batch, 'every', 2), ['every:job-1', 'every:job-2']);
    assert.equal((await batch.jobSchedule.get('every')).executionInfo?.recentJob?.id, 'every:job-2');
  });

  test('a run that cannot start within its start window is skipped', async () => {
    const { batch, poolId } = await start();
    await batch.jobSchedule.add({
      id: 'windowed',
      schedule: { recurrenceInterval: 'PT4M', startWindow: 'PT1M' },
      jobSpecification: { poolInfo: { poolId } },
    });
    await waitForJobs(batch, 'windowed', 1);
    const firstNext = (await batch.jobSchedule.get('windowed')).executionInfo?.nextRunTime as Date;
    advance(4 * MINUTE + 1000);
    server?.lapis.wake();
    advance(MINUTE + 1000);
    await waitFor(async () => {
      const next = (await batch.jobSchedule.get('windowed')).executionInfo?.nextRunTime as Date;
      return next.getTime() > firstNext.getTime() ? true : undefined;
    }, { what: 'the missed run to be skipped' });
    await terminateAndWait(batch, 'windowed:job-1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(await jobIds(batch, 'windowed'), ['windowed:job-1'], 'the skipped run made no job');
    advance(3 * MINUTE);
    assert.deepEqual(await waitForJobs(batch, 'windowed', 2), ['windowed:job-1', 'windowed:job-2']);
  });

  test('doNotRunUntil delays the first job; a disabled schedule creates none until enabled', async () => {
    const { batch, poolId } = await start();
    const later = new Date(Date.now() + 2 * MINUTE);
    await batch.jobSchedule.add({ id: 'later', schedule: { doNotRunUntil: later }, jobSpecification: { poolInfo: { poolId } } });
    assert.equal((await batch.jobSchedule.get('later')).executionInfo?.nextRunTime?.toISOString(), later.toISOString());
    await batch.jobSchedule.disable('later');
    assert.equal((await batch.jobSchedule.get('later')).state, 'disabled');
    advance(3 * MINUTE);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(await jobIds(batch, 'later'), []);
    const enabled = await batch.jobSchedule.enable('later');
    assert.equal(enabled._response.status, 204);
    assert.deepEqual(await waitForJobs(batch, 'later', 1), ['later:job-1']);
  });

  test('terminate ends the active job; delete removes the schedule and its jobs', async () => {
    const { batch, poolId } = await start();
    await batch.jobSchedule.add({ id: 'ending', schedule: { recurrenceInterval: 'PT5M' }, jobSpecification: { poolInfo: { poolId } } });
    await waitForJobs(batch, 'ending', 1);
    await batch.jobSchedule.terminate('ending');
    await waitForScheduleState(batch, 'ending', 'completed');
    const job = await batch.job.get('ending:job-1');
    assert.equal(job.state, 'completed');
    assert.equal(job.executionInfo?.terminateReason, 'TerminateJobSchedule');
    await assert.rejects(batch.jobSchedule.disable('ending'), batchError('JobScheduleCompleted', 409));

    await batch.jobSchedule.deleteMethod('ending');
    await waitFor(async () => ((await batch.jobSchedule.exists('ending')).body === false ? true : undefined));
    await assert.rejects(batch.job.get('ending:job-1'), batchError('JobNotFound', 404));
    await assert.rejects(batch.jobSchedule.get('ending'), batchError('JobScheduleNotFound', 404));
  });

  test('patch merges, update replaces; ids are shared with jobs; bad schedules are refused', async () => {
    const { batch, poolId } = await start();
    await batch.jobSchedule.add({
      id: 'editable',
      schedule: { doNotRunUntil: new Date(Date.now() + 10 * MINUTE) },
      jobSpecification: { poolInfo: { poolId } },
      metadata: [{ name: 'a', value: '1' }],
    });
    await batch.jobSchedule.patch('editable', { jobSpecification: { poolInfo: { poolId }, priority: 9 } });
    let schedule = await batch.jobSchedule.get('editable');
    assert.equal(schedule.jobSpecification?.priority, 9);
    assert.deepEqual(schedule.metadata, [{ name: 'a', value: '1' }]);
    await batch.jobSchedule.update('editable', { schedule: { doNotRunUntil: new Date(Date.now() + 10 * MINUTE) }, jobSpecification: { poolInfo: { poolId } } });
    schedule = await batch.jobSchedule.get('editable');
    assert.equal(schedule.metadata, undefined);
    // Replaced without a priority: back to Batch's default.
    assert.equal(schedule.jobSpecification?.priority, 0);

    await assert.rejects(batch.job.add({ id: 'EDITABLE', poolInfo: { poolId } }), batchError('JobScheduleWithSameIdExists', 409));
    await batch.job.add({ id: 'plainjob', poolInfo: { poolId } });
    await assert.rejects(
      batch.jobSchedule.add({ id: 'plainjob', schedule: {}, jobSpecification: { poolInfo: { poolId } } }),
      batchError('JobWithSameIdExists', 409),
    );
    await assert.rejects(
      batch.jobSchedule.add({ id: 'Editable', schedule: {}, jobSpecification: { poolInfo: { poolId } } }),
      batchError('JobScheduleExists', 409),
    );
    const tooOften = await signedRequest(server as TestServer, 'POST', '/jobschedules', {
      body: JSON.stringify({ id: 'often', schedule: { recurrenceInterval: 'PT30S' }, jobSpecification: { poolInfo: { poolId } } }),
    });
    assert.equal(tooOften.status, 400);
    assert.equal(tooOften.body.code, 'InvalidPropertyValue');
    assert.equal(errorDetail(tooOften.body, 'PropertyName'), 'schedule.recurrenceInterval');
    const missing = await signedRequest(server as TestServer, 'POST', '/jobschedules', { body: JSON.stringify({ id: 'nospec', schedule: {} }) });
    assert.equal(missing.body.code, 'MissingRequiredProperty');
    assert.equal(errorDetail(missing.body, 'PropertyName'), 'jobSpecification');
    assert.deepEqual((await batch.jobSchedule.list()).map((entry) => entry.id), ['editable']);
    assert.equal((await batch.jobSchedule.exists('nope')).body, false);
  });
});
