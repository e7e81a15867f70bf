// Changing jobs and tasks after they were added, through @azure/batch:
// Job_Patch, Job_Update, Job_Disable, Job_Enable, Job_GetTaskCounts,
// Task_Update, Task_Terminate, Task_Reactivate, Task_ListSubtasks.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, batchError, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { errorDetail, signedRequest } from '../../src/testkit/signed-request.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
const poolId = uniqueId('ChangesPool');
const emptyPoolId = uniqueId('EmptyPool');

before(async () => {
  server = await startTestServer();
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, taskSlotsPerNode: 4 });
  await addPoolAndWait(server.batch, emptyPoolId, { targetDedicatedNodes: 0 });
});

after(async () => {
  await server?.stop();
});

async function newJob(overrides: Record<string, unknown> = {}): Promise<string> {
  const id = uniqueId('Job');
  await server.batch.job.add({ id, poolInfo: { poolId }, ...overrides });
  return id;
}

const SLEEP = '/bin/sleep 30';

describe('Job_Patch and Job_Update', () => {
  test('patch changes only what it names and returns a new ETag', async () => {
    const jobId = await newJob({ priority: 5, metadata: [{ name: 'a', value: '1' }], constraints: { maxTaskRetryCount: 2 } });
    const before = await server.batch.job.get(jobId);
    const reply = await server.batch.job.patch(jobId, { priority: 100 });
    assert.notEqual(reply.eTag, before.eTag);
    const job = await server.batch.job.get(jobId);
    assert.equal(job.eTag, reply.eTag);
    assert.equal(job.priority, 100);
    assert.deepEqual(job.metadata, [{ name: 'a', value: '1' }]);
    assert.equal(job.constraints?.maxTaskRetryCount, 2);
  });

  test('update replaces: what it omits returns to the default', async () => {
    const jobId = await newJob({ priority: 5, metadata: [{ name: 'a', value: '1' }], constraints: { maxTaskRetryCount: 2 }, maxParallelTasks: 3 });
    await server.batch.job.update(jobId, { poolInfo: { poolId }, priority: 7 });
    const job = await server.batch.job.get(jobId);
    assert.equal(job.priority, 7);
    assert.equal(job.metadata, undefined, 'metadata cleared (an empty list is not returned)');
    assert.equal(job.constraints?.maxTaskRetryCount, 0);
    assert.equal(job.maxParallelTasks, -1);
    assert.equal(job.onAllTasksComplete, 'noaction');
  });

  test('onAllTasksComplete may go to terminatejob but never back', async () => {
    const jobId = await newJob();
    // A task still to run, so that terminatejob does not end the job at once.
    await server.batch.task.add(jobId, { id: 'pending', commandLine: '/bin/sleep 30' });
    await server.batch.job.patch(jobId, { onAllTasksComplete: 'terminatejob' });
    await assert.rejects(server.batch.job.patch(jobId, { onAllTasksComplete: 'noaction' }), batchError('InvalidPropertyValue', 400));
    await assert.rejects(server.batch.job.update(jobId, { poolInfo: { poolId } }), batchError('InvalidPropertyValue', 400));
    await server.batch.job.terminate(jobId);
  });

  test('the pool may change only while the job is disabled', async () => {
    const jobId = await newJob();
    await assert.rejects(server.batch.job.patch(jobId, { poolInfo: { poolId: emptyPoolId } }), batchError('OperationInvalidForCurrentState', 409));
    await server.batch.job.disable(jobId, 'wait');
    await waitFor(async () => ((await server.batch.job.get(jobId)).state === 'disabled' ? true : undefined));
    await server.batch.job.patch(jobId, { poolInfo: { poolId: emptyPoolId } });
    const job = await server.batch.job.get(jobId);
    assert.equal(job.poolInfo?.poolId, emptyPoolId);
    assert.equal(job.executionInfo?.poolId, emptyPoolId);
  });

  test('bad values and If-Match are checked; a failed patch changes nothing', async () => {
    const jobId = await newJob({ priority: 1 });
    await assert.rejects(server.batch.job.patch(jobId, { priority: 5000 }), batchError('InvalidPropertyValue', 400));
    await assert.rejects(
      server.batch.job.patch(jobId, { priority: 2 }, { jobPatchOptions: { ifMatch: '"0x8D000000000000"' } }),
      batchError('ConditionNotMet', 412),
    );
    assert.equal((await server.batch.job.get(jobId)).priority, 1);
    await assert.rejects(server.batch.job.patch(uniqueId('Nope'), { priority: 2 }), batchError('JobNotFound', 404));
  });

  test('a completed job takes no changes', async () => {
    const jobId = await newJob();
    await server.batch.job.terminate(jobId);
    await waitFor(async () => ((await server.batch.job.get(jobId)).state === 'completed' ? true : undefined));
    await assert.rejects(server.batch.job.patch(jobId, { priority: 2 }), batchError('JobCompleted', 409));
    await assert.rejects(server.batch.job.disable(jobId, 'requeue'), batchError('JobCompleted', 409));
  });
});

describe('Job_Disable and Job_Enable', () => {
  test('requeue puts running tasks back as active with requeueCount 1; enable runs them again', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'long', commandLine: SLEEP });
    await waitForTaskState(server.batch, jobId, 'long', 'running');
    await server.batch.job.disable(jobId, 'requeue');
    const job = await waitFor(async () => {
      const current = await server.batch.job.get(jobId);
      return current.state === 'disabled' ? current : undefined;
    });
    assert.equal(job.previousState, 'disabling');
    const task = await server.batch.task.get(jobId, 'long');
    assert.equal(task.state, 'active');
    assert.equal(task.executionInfo?.requeueCount, 1);
    assert.equal(task.executionInfo?.retryCount, 0);

    await server.batch.task.add(jobId, { id: 'quick', commandLine: '/bin/true' });
    assert.equal((await server.batch.task.get(jobId, 'quick')).state, 'active', 'a disabled job starts nothing');

    await server.batch.job.enable(jobId);
    assert.equal((await server.batch.job.get(jobId)).state, 'active');
    await waitForTaskState(server.batch, jobId, 'quick', 'completed');
    await waitForTaskState(server.batch, jobId, 'long', 'running');
    await server.batch.task.terminate(jobId, 'long');
  });

  test('terminate ends running tasks as failed with TaskEnded', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'long', commandLine: SLEEP });
    await waitForTaskState(server.batch, jobId, 'long', 'running');
    await server.batch.job.disable(jobId, 'terminate');
    const task = await waitForTaskState(server.batch, jobId, 'long', 'completed');
    assert.equal(task.executionInfo?.result, 'failure');
    assert.equal(task.executionInfo?.failureInfo?.code, 'TaskEnded');
    await waitFor(async () => ((await server.batch.job.get(jobId)).state === 'disabled' ? true : undefined));
  });

  test('wait lets running tasks finish; the job stays disabling until then', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'short', commandLine: '/bin/sleep 0.5' });
    await waitForTaskState(server.batch, jobId, 'short', 'running');
    await server.batch.job.disable(jobId, 'wait');
    assert.equal((await server.batch.job.get(jobId)).state, 'disabling');
    const task = await waitForTaskState(server.batch, jobId, 'short', 'completed');
    assert.equal(task.executionInfo?.result, 'success');
    await waitFor(async () => ((await server.batch.job.get(jobId)).state === 'disabled' ? true : undefined));
  });

  test('an unknown disableTasks is refused; enabling an active job is a conflict', async () => {
    const jobId = await newJob();
    // The SDK refuses an unknown option itself; other clients may send one.
    const response = await signedRequest(server, 'POST', `/jobs/${jobId}/disable`, { body: JSON.stringify({ disableTasks: 'later' }) });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.body.code, 'InvalidPropertyValue');
    assert.equal(errorDetail(response.body, 'PropertyName'), 'disableTasks');
    assert.equal((await server.batch.job.get(jobId)).state, 'active');
    await assert.rejects(server.batch.job.enable(jobId), batchError('OperationInvalidForCurrentState', 409));
  });
});

describe('Job_GetTaskCounts', () => {
  test('counts tasks and their slots by state', async () => {
    const jobId = await newJob();
    await server.batch.task.addCollection(jobId, [
      { id: 'ok', commandLine: '/bin/true', requiredSlots: 2 },
      { id: 'bad', commandLine: '/bin/false' },
      { id: 'run', commandLine: SLEEP, requiredSlots: 2 },
    ]);
    await waitForTaskState(server.batch, jobId, 'ok', 'completed');
    await waitForTaskState(server.batch, jobId, 'bad', 'completed');
    await waitForTaskState(server.batch, jobId, 'run', 'running');
    await server.batch.job.disable(jobId, 'wait');
    await server.batch.task.add(jobId, { id: 'waiting', commandLine: '/bin/true', requiredSlots: 3 });
    const counts = await server.batch.job.getTaskCounts(jobId);
    assert.deepEqual(
      { ...counts.taskCounts },
      { active: 1, running: 1, completed: 2, succeeded: 1, failed: 1 },
    );
    assert.deepEqual({ ...counts.taskSlotCounts }, { active: 3, running: 2, completed: 3, succeeded: 2, failed: 1 });
    await server.batch.task.terminate(jobId, 'run');
    await assert.rejects(server.batch.job.getTaskCounts(uniqueId('Nope')), batchError('JobNotFound', 404));
  });
});

describe('Task_Update, Task_Terminate, Task_Reactivate, Task_ListSubtasks', () => {
  test('update replaces the constraints', async () => {
    const jobId = await newJob({ constraints: { maxTaskRetryCount: 4 } });
    await server.batch.job.disable(jobId, 'wait');
    await server.batch.task.add(jobId, { id: 't', commandLine: '/bin/true', constraints: { maxTaskRetryCount: 1, retentionTime: 'PT1H' } });
    await server.batch.task.update(jobId, 't', { constraints: { maxWallClockTime: 'PT5M' } });
    const task = await server.batch.task.get(jobId, 't');
    assert.equal(task.constraints?.maxWallClockTime, 'PT5M');
    assert.equal(task.constraints?.retentionTime, 'P7D');
    assert.equal(task.constraints?.maxTaskRetryCount, 4, 'the job\'s default');
    const response = await signedRequest(server, 'PUT', `/jobs/${jobId}/tasks/t`, { body: JSON.stringify({ constraints: { maxWallClockTime: 'soon' } }) });
    assert.equal(response.status, 400, response.text);
    assert.equal(errorDetail(response.body, 'PropertyName'), 'constraints.maxWallClockTime');
    assert.equal((await server.batch.task.get(jobId, 't')).constraints?.maxWallClockTime, 'PT5M', 'a refused update changes nothing');
  });

  test('terminate ends a running task and completes a waiting one; a completed task is a conflict', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'running', commandLine: SLEEP });
    await waitForTaskState(server.batch, jobId, 'running', 'running');
    await server.batch.task.terminate(jobId, 'running');
    const ended = await server.batch.task.get(jobId, 'running');
    assert.equal(ended.state, 'completed');
    assert.equal(ended.executionInfo?.failureInfo?.code, 'TaskEnded');
    assert.equal(ended.executionInfo?.result, 'failure');

    const waitingJob = uniqueId('Waiting');
    await server.batch.job.add({ id: waitingJob, poolInfo: { poolId: emptyPoolId } });
    await server.batch.task.add(waitingJob, { id: 'queued', commandLine: '/bin/true' });
    await server.batch.task.terminate(waitingJob, 'queued');
    const queued = await server.batch.task.get(waitingJob, 'queued');
    assert.equal(queued.state, 'completed');
    assert.equal(queued.executionInfo?.failureInfo?.code, 'TaskEnded');

    await assert.rejects(server.batch.task.terminate(jobId, 'running'), batchError('TaskCompleted', 409));
    await assert.rejects(server.batch.task.terminate(jobId, 'nope'), batchError('TaskNotFound', 404));
  });

  test('reactivate runs a failed task again with its retry count reset', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'flaky', commandLine: '/bin/sh -c "exit 3"', constraints: { maxTaskRetryCount: 1 } });
    const failed = await waitForTaskState(server.batch, jobId, 'flaky', 'completed');
    assert.equal(failed.executionInfo?.retryCount, 1);
    assert.equal(failed.executionInfo?.exitCode, 3);
    await server.batch.task.reactivate(jobId, 'flaky');
    const again = await waitFor(async () => {
      const task = await server.batch.task.get(jobId, 'flaky');
      return task.state === 'completed' && task.previousState === 'running' && task.eTag !== failed.eTag ? task : undefined;
    });
    assert.equal(again.executionInfo?.retryCount, 1, 'counted again from zero');
    assert.equal(again.executionInfo?.exitCode, 3);

    await server.batch.task.add(jobId, { id: 'fine', commandLine: '/bin/true' });
    await waitForTaskState(server.batch, jobId, 'fine', 'completed');
    await assert.rejects(server.batch.task.reactivate(jobId, 'fine'), batchError('OperationInvalidForCurrentState', 409));
  });

  test('listSubtasks is empty for an ordinary task', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'plain', commandLine: '/bin/true' });
    const subtasks = await server.batch.task.listSubtasks(jobId, 'plain');
    assert.deepEqual(subtasks.value, []);
    await assert.rejects(server.batch.task.listSubtasks(jobId, 'nope'), batchError('TaskNotFound', 404));
  });
});
