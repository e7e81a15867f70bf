// Job preparation and release tasks through @azure/batch, with real
// processes: preparation runs once per node before the job's tasks there,
// gates them until it succeeds, and is retried; release runs on every
// prepared node when the job ends; Job_ListPreparationAndReleaseTaskStatus
// reports each node.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, batchError, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
const poolId = uniqueId('PrepPool');

before(async () => {
  server = await startTestServer();
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, taskSlotsPerNode: 2 });
});

after(async () => {
  await server?.stop();
});

async function statuses(jobId: string) {
  return server.batch.job.listPreparationAndReleaseTaskStatus(jobId);
}

describe('job preparation and release tasks', () => {
  test('preparation runs once per node before the tasks; release runs when the job ends', async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({
      id: jobId,
      poolInfo: { poolId },
      jobPreparationTask: { commandLine: '/bin/bash -c "sleep 0.3; echo prepared > $AZ_BATCH_NODE_SHARED_DIR/prep-$AZ_BATCH_JOB_ID.txt; echo prep-ran"' },
      jobReleaseTask: { commandLine: '/bin/bash -c "echo released > $AZ_BATCH_NODE_SHARED_DIR/release-$AZ_BATCH_JOB_ID.txt"' },
    });
    await server.batch.task.addCollection(jobId, [
      { id: 'one', commandLine: `/bin/bash -c "cat $AZ_BATCH_NODE_SHARED_DIR/prep-${jobId}.txt; echo $AZ_BATCH_JOB_PREP_WORKING_DIR"` },
      { id: 'two', commandLine: `/bin/bash -c "cat $AZ_BATCH_NODE_SHARED_DIR/prep-${jobId}.txt"` },
    ]);
    const one = await waitForTaskState(server.batch, jobId, 'one', 'completed');
    await waitForTaskState(server.batch, jobId, 'two', 'completed');
    const output = await readStream((await server.batch.file.getFromTask(jobId, 'one', 'stdout.txt')).readableStreamBody);
    assert.match(output, /^prepared\n.*\/workitems\/.*\/job-1\/jobpreparation\/wd\n$/);
    assert.equal(one.executionInfo?.result, 'success');

    const [status] = await statuses(jobId);
    assert.equal(status?.nodeId, one.nodeInfo?.nodeId);
    assert.equal(status?.poolId, poolId);
    assert.equal(status?.jobPreparationTaskExecutionInfo?.state, 'completed');
    assert.equal(status?.jobPreparationTaskExecutionInfo?.exitCode, 0);
    assert.equal(status?.jobPreparationTaskExecutionInfo?.result, 'success');
    assert.match(status?.jobPreparationTaskExecutionInfo?.taskRootDirectory ?? '', /job-1\/jobpreparation$/);
    assert.equal(status?.jobReleaseTaskExecutionInfo, undefined);

    await server.batch.job.terminate(jobId);
    await waitFor(async () => ((await server.batch.job.get(jobId)).state === 'completed' ? true : undefined));
    const [ended] = await statuses(jobId);
    assert.equal(ended?.jobReleaseTaskExecutionInfo?.state, 'completed');
    assert.equal(ended?.jobReleaseTaskExecutionInfo?.result, 'success');
    const nodeId = one.nodeInfo?.nodeId as string;
    const released = await readStream((await server.batch.file.getFromComputeNode(poolId, nodeId, `shared/release-${jobId}.txt`)).readableStreamBody);
    assert.equal(released, 'released\n');
    const prepOut = await readStream(
      (await server.batch.file.getFromComputeNode(poolId, nodeId, `workitems/${jobId}/job-1/jobpreparation/stdout.txt`)).readableStreamBody,
    );
    assert.equal(prepOut, 'prep-ran\n', 'preparation ran once for both tasks');
  });

  test('a failing preparation is retried, and its failure keeps the job\'s tasks off the node', async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({
      id: jobId,
      poolInfo: { poolId },
      jobPreparationTask: { commandLine: '/bin/sh -c "exit 5"', constraints: { maxTaskRetryCount: 1 } },
    });
    await server.batch.task.add(jobId, { id: 'blocked', commandLine: '/bin/true' });
    const status = await waitFor(async () => {
      const [current] = await statuses(jobId);
      return current?.jobPreparationTaskExecutionInfo?.state === 'completed' ? current : undefined;
    });
    assert.equal(status.jobPreparationTaskExecutionInfo?.exitCode, 5);
    assert.equal(status.jobPreparationTaskExecutionInfo?.retryCount, 1);
    assert.equal(status.jobPreparationTaskExecutionInfo?.result, 'failure');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await server.batch.task.get(jobId, 'blocked')).state, 'active');
  });

  test('without waitForSuccess the tasks do not wait for the preparation', async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({
      id: jobId,
      poolInfo: { poolId },
      jobPreparationTask: { commandLine: '/bin/sleep 2', waitForSuccess: false },
    });
    await server.batch.task.add(jobId, { id: 'eager', commandLine: '/bin/true' });
    await waitForTaskState(server.batch, jobId, 'eager', 'completed');
    const [status] = await statuses(jobId);
    assert.equal(status?.jobPreparationTaskExecutionInfo?.state, 'running');
  });

  test('a task waits on its node as preparing while the preparation runs there, then runs', async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId }, jobPreparationTask: { commandLine: '/bin/sleep 2' } });
    await server.batch.task.add(jobId, { id: 'patient', commandLine: '/bin/sleep 2' });
    const preparing = await waitForTaskState(server.batch, jobId, 'patient', 'preparing');
    const onNode = async () => (await server.batch.computeNode.get(poolId, preparing.nodeInfo?.nodeId ?? '')).recentTasks?.find((entry) => entry.jobId === jobId);
    assert.equal(preparing.previousState, 'active');
    assert.ok(preparing.stateTransitionTime);
    assert.ok(preparing.nodeInfo?.nodeId, 'a preparing task is assigned to its node');
    assert.equal(preparing.executionInfo?.startTime, undefined);
    const listed = await server.batch.task.list(jobId, { taskListOptions: { filter: "state eq 'preparing'" } });
    assert.deepEqual(listed.map((task) => task.id), ['patient']);
    const { taskCounts } = await server.batch.job.getTaskCounts(jobId);
    assert.equal(taskCounts.running, 1, 'TaskCounts counts a preparing task as running');
    assert.equal(taskCounts.active, 0);
    assert.equal((await onNode())?.taskState, 'preparing', "the node's recentTasks shows it preparing");

    await waitForTaskState(server.batch, jobId, 'patient', 'running');
    assert.equal((await onNode())?.taskState, 'running', 'then running, as soon as it starts');
    const done = await waitForTaskState(server.batch, jobId, 'patient', 'completed');
    assert.equal((await onNode())?.executionInfo?.result, 'success');
    assert.equal(done.executionInfo?.result, 'success');
    assert.equal(done.nodeInfo?.nodeId, preparing.nodeInfo?.nodeId);
    const [status] = await statuses(jobId);
    const preparedAt = status?.jobPreparationTaskExecutionInfo?.endTime?.getTime() ?? Infinity;
    assert.ok((done.executionInfo?.startTime?.getTime() ?? 0) >= preparedAt, 'the task started once the preparation had succeeded');
  });

  test('a preparing task goes back to active when the preparation fails on its node', async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId }, jobPreparationTask: { commandLine: '/bin/bash -c "sleep 1; exit 3"' } });
    await server.batch.task.add(jobId, { id: 'returned', commandLine: '/bin/true' });
    await waitForTaskState(server.batch, jobId, 'returned', 'preparing');
    const returned = await waitFor(async () => {
      const task = await server.batch.task.get(jobId, 'returned');
      return task.state === 'active' && task.previousState === 'preparing' ? task : undefined;
    });
    assert.equal(returned.nodeInfo, undefined);
    assert.equal(returned.executionInfo?.requeueCount, 0);
    assert.equal((await server.batch.job.getTaskCounts(jobId)).taskCounts.active, 1);
  });

  test('a job with neither task answers 409; an unknown job 404', async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await assert.rejects(statuses(jobId), batchError('JobPreparationTaskOrReleaseTaskNotSpecified', 409));
    await assert.rejects(statuses(uniqueId('Nope')), batchError('JobNotFound', 404));
  });
});
