// Task dependencies and exit conditions through @azure/batch, with real
// processes: dependents wait for their parents (by id or id range), failures
// block them unless exit conditions satisfy them, and exit options can
// disable or terminate the job.

import type { BatchServiceModels } from '@azure/batch';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, batchError, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
const poolId = uniqueId('DepsPool');

before(async () => {
  server = await startTestServer();
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 2, taskSlotsPerNode: 4 });
});

after(async () => {
  await server?.stop();
});

async function newJob(overrides: Partial<BatchServiceModels.JobAddParameter> = {}): Promise<string> {
  const id = uniqueId('Job');
  await server.batch.job.add({ id, poolInfo: { poolId }, usesTaskDependencies: true, ...overrides });
  return id;
}

/** Settles the scheduler: every task that can run has run. */
async function quiet(jobId: string): Promise<void> {
  await waitFor(async () => {
    const counts = await server.batch.job.getTaskCounts(jobId);
    return counts.taskCounts.running === 0 ? true : undefined;
  });
  await new Promise((resolve) => setTimeout(resolve, 150));
}

describe('task dependencies', () => {
  test('a dependent waits for parents added after it, and starts once they succeed', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'merge', commandLine: '/bin/true', dependsOn: { taskIds: ['left', 'right'] } });
    await quiet(jobId);
    assert.equal((await server.batch.task.get(jobId, 'merge')).state, 'active', 'its parents do not exist yet');
    await server.batch.task.addCollection(jobId, [
      { id: 'left', commandLine: '/bin/sleep 0.2' },
      { id: 'right', commandLine: '/bin/sleep 0.3' },
    ]);
    const merge = await waitForTaskState(server.batch, jobId, 'merge', 'completed');
    const left = await server.batch.task.get(jobId, 'left');
    const right = await server.batch.task.get(jobId, 'right');
    assert.ok((merge.executionInfo?.startTime as Date) >= (left.executionInfo?.endTime as Date));
    assert.ok((merge.executionInfo?.startTime as Date) >= (right.executionInfo?.endTime as Date));
    assert.deepEqual(merge.dependsOn?.taskIds, ['left', 'right']);
  });

  test('a failed parent blocks its dependents; every id in a range is a parent', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, { id: 'after-range', commandLine: '/bin/true', dependsOn: { taskIdRanges: [{ start: 1, end: 3 }] } });
    await server.batch.task.addCollection(jobId, [
      { id: '1', commandLine: '/bin/true' },
      { id: '2', commandLine: '/bin/sh -c "exit 4"' },
      { id: '3', commandLine: '/bin/true' },
      { id: '4', commandLine: '/bin/sh -c "exit 4"' },
    ]);
    for (const id of ['1', '2', '3', '4']) await waitForTaskState(server.batch, jobId, id, 'completed');
    await quiet(jobId);
    assert.equal((await server.batch.task.get(jobId, 'after-range')).state, 'active', 'task 2 failed: blocked');
    const other = await newJob();
    await server.batch.task.add(other, { id: 'after-range', commandLine: '/bin/true', dependsOn: { taskIdRanges: [{ start: 1, end: 3 }] } });
    await server.batch.task.addCollection(other, [
      { id: '1', commandLine: '/bin/true' },
      { id: '3', commandLine: '/bin/true' },
      { id: '4', commandLine: '/bin/sh -c "exit 4"' },
    ]);
    for (const id of ['1', '3', '4']) await waitForTaskState(server.batch, other, id, 'completed');
    await quiet(other);
    assert.equal((await server.batch.task.get(other, 'after-range')).state, 'active', 'task 2 does not exist yet');
    await server.batch.task.add(other, { id: '2', commandLine: '/bin/true' });
    const ran = await waitForTaskState(server.batch, other, 'after-range', 'completed');
    assert.equal(ran.executionInfo?.result, 'success', 'task 4 is outside the range');
  });

  test('exit conditions can let a failure satisfy dependents', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, {
      id: 'tolerated',
      commandLine: '/bin/sh -c "exit 3"',
      exitConditions: { exitCodes: [{ code: 3, exitOptions: { dependencyAction: 'satisfy' } }] },
    });
    await server.batch.task.add(jobId, { id: 'next', commandLine: '/bin/true', dependsOn: { taskIds: ['tolerated'] } });
    const next = await waitForTaskState(server.batch, jobId, 'next', 'completed');
    assert.equal(next.executionInfo?.result, 'success');
    const tolerated = await server.batch.task.get(jobId, 'tolerated');
    assert.equal(tolerated.executionInfo?.result, 'failure', 'the parent still failed');
    assert.equal(tolerated.executionInfo?.exitCode, 3);
  });

  test('hundreds of dependencies, explicit and by range, stay quick', async () => {
    const jobId = await newJob();
    const count = 200;
    const ids = Array.from({ length: count }, (_, index) => String(index + 1));
    await server.batch.task.add(jobId, { id: 'reduce', commandLine: '/bin/true', dependsOn: { taskIds: ids, taskIdRanges: [{ start: 1, end: count }] } });
    for (let index = 0; index < count; index += 100) {
      await server.batch.task.addCollection(jobId, ids.slice(index, index + 100).map((id) => ({ id, commandLine: '/bin/true' })));
    }
    const reduce = await waitForTaskState(server.batch, jobId, 'reduce', 'completed', 120_000);
    assert.equal(reduce.executionInfo?.result, 'success');
    const counts = await server.batch.job.getTaskCounts(jobId);
    assert.equal(counts.taskCounts.succeeded, count + 1);
  });

  test('dependsOn needs a job that uses task dependencies; overlong id lists are refused', async () => {
    const plain = await newJob({ usesTaskDependencies: false });
    await assert.rejects(
      server.batch.task.add(plain, { id: 'x', commandLine: '/bin/true', dependsOn: { taskIds: ['y'] } }),
      batchError('TaskDependenciesNotSpecifiedOnJob', 400),
    );
    // In a collection the task's own result carries it, as a client error.
    const [result] = (await server.batch.task.addCollection(plain, [{ id: 'x', commandLine: '/bin/true', dependsOn: { taskIds: ['y'] } }])).value ?? [];
    assert.equal(result?.status, 'clienterror');
    assert.equal(result?.error?.code, 'TaskDependenciesNotSpecifiedOnJob');
    const jobId = await newJob();
    const longIds = Array.from({ length: 1100 }, (_, index) => `parent-with-a-long-name-${String(index).padStart(40, '0')}`);
    await assert.rejects(
      server.batch.task.add(jobId, { id: 'x', commandLine: '/bin/true', dependsOn: { taskIds: longIds } }),
      batchError('TaskDependencyListTooLong', 400),
    );
  });
});

describe('exit conditions and job actions', () => {
  test('with performexitoptionsjobaction a failure terminates the job by default', async () => {
    const jobId = await newJob({ onTaskFailure: 'performexitoptionsjobaction' });
    await server.batch.task.add(jobId, { id: 'fails', commandLine: '/bin/sh -c "exit 1"' });
    const job = await waitFor(async () => {
      const current = await server.batch.job.get(jobId);
      return current.state === 'completed' ? current : undefined;
    });
    assert.equal(job.executionInfo?.terminateReason, 'TaskFailed');
  });

  test('an exit code range can disable the job instead; success takes no action', async () => {
    const jobId = await newJob({ onTaskFailure: 'performexitoptionsjobaction' });
    await server.batch.task.add(jobId, { id: 'fine', commandLine: '/bin/true' });
    await waitForTaskState(server.batch, jobId, 'fine', 'completed');
    assert.equal((await server.batch.job.get(jobId)).state, 'active');
    await server.batch.task.add(jobId, {
      id: 'pause',
      commandLine: '/bin/sh -c "exit 12"',
      exitConditions: { exitCodeRanges: [{ start: 10, end: 19, exitOptions: { jobAction: 'disable' } }] },
    });
    await waitFor(async () => ((await server.batch.job.get(jobId)).state === 'disabled' ? true : undefined));
  });

  test('a pre-processing error uses preProcessingError', async () => {
    const jobId = await newJob({ onTaskFailure: 'performexitoptionsjobaction' });
    await server.batch.task.add(jobId, {
      id: 'missing-program',
      commandLine: '/no/such/program',
      exitConditions: { preProcessingError: { jobAction: 'none', dependencyAction: 'satisfy' } },
    });
    await server.batch.task.add(jobId, { id: 'after', commandLine: '/bin/true', dependsOn: { taskIds: ['missing-program'] } });
    await waitForTaskState(server.batch, jobId, 'after', 'completed');
    assert.equal((await server.batch.job.get(jobId)).state, 'active');
    const failed = await server.batch.task.get(jobId, 'missing-program');
    assert.equal(failed.executionInfo?.failureInfo?.code, 'CommandProgramNotFound');
  });

  test('jobAction on a job whose onTaskFailure is noaction is refused', async () => {
    const jobId = await newJob();
    await assert.rejects(
      server.batch.task.add(jobId, { id: 'x', commandLine: '/bin/true', exitConditions: { default: { jobAction: 'terminate' } } }),
      batchError('InvalidPropertyValue', 400),
    );
  });
});
