// Container pools and tasks through Docker (--container-engine docker), on
// process nodes and on container nodes, driven through @azure/batch against a
// real server. The Docker daemon is the test's own (src/testkit/
// private-docker-daemon.ts: its own socket, given to Lapis as --docker-host),
// holding the Debian test image loaded from Podman, since no registry is
// reachable here. Skipped, saying why, where dockerd cannot start or the image
// is missing; container-tasks.test.ts covers the same through Podman.

import type { BatchServiceModels } from '@azure/batch';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startPrivateDockerDaemon, type PrivateDockerDaemon } from '../../src/testkit/private-docker-daemon.js';
import { TEST_NODE_IMAGE } from '../../src/testkit/test-node-image.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';
import { containerPool, sasUrl, taskFile } from '../fixtures/container-workloads.js';

const IMAGE = TEST_NODE_IMAGE;
/** Batch's container-ready Ubuntu, run here on the test image when nodes are containers. */
const CONTAINER_READY = 'microsoft-azure-batch/ubuntu-server-container/20-04-lts';

const started = await startPrivateDockerDaemon([IMAGE]);
const skip = 'skip' in started ? started.skip : undefined;
const daemon = started as PrivateDockerDaemon;
after(() => (skip ? undefined : daemon.stop()));

const startTaskInContainer: BatchServiceModels.StartTask = {
  commandLine: '/bin/sh -c "cat /proc/1/comm > $AZ_BATCH_NODE_SHARED_DIR/start-pid1.txt"',
  containerSettings: { imageName: IMAGE },
  userIdentity: { autoUser: { scope: 'pool', elevationLevel: 'admin' } },
  waitForSuccess: true,
};

/** The containers of the test's daemon whose names start so, running or not. */
function dockerContainers(prefix: string): string[] {
  return daemon
    .docker(['ps', '-a', '--format', '{{.Names}}'])
    .split('\n')
    .filter((name) => name.startsWith(prefix));
}

/** The containers run beside a node (its container runs), running or not. */
function siblingsOf(nodeName: string): string[] {
  return daemon
    .docker(['ps', '-a', '--filter', `label=lapis.sibling-of=${nodeName}`, '--format', '{{.Names}}'])
    .split('\n')
    .filter(Boolean);
}

/**
 * Adds a job whose preparation task and one task run in containers: the task
 * reads its resource file, writes an output file to a blob SAS, prints what
 * it sees of AZ_BATCH_*, its run options and its environment settings, and
 * the first lines of `script`. Answers the task's stdout lines and its output blob.
 */
async function runBoxedTask(server: TestServer, poolId: string, script: string[]): Promise<{ lines: string[]; out: string; jobId: string }> {
  const container = server.blob.getContainerClient(uniqueId('dk').toLowerCase());
  await container.create();
  await container.getBlockBlobClient('input.txt').upload('hello from blob', 15);
  const jobId = uniqueId('Job');
  await server.batch.job.add({
    id: jobId,
    poolInfo: { poolId },
    jobPreparationTask: { commandLine: '/bin/sh -c "cat /proc/1/comm > prep-pid1.txt"', containerSettings: { imageName: IMAGE } },
  });
  const commands = ['cat input.txt > out.txt', 'echo " task=$AZ_BATCH_TASK_ID job=$AZ_BATCH_JOB_ID wd=$AZ_BATCH_TASK_WORKING_DIR pwd=$(pwd) x=$X mine=$MINE" >> out.txt', ...script];
  await server.batch.task.add(jobId, {
    id: 'boxed',
    commandLine: `/bin/sh -c '${commands.join('; ')}'`,
    resourceFiles: [{ storageContainerUrl: sasUrl(container, 'rl'), blobPrefix: 'input.txt' }],
    environmentSettings: [{ name: 'MINE', value: 'set inside' }],
    outputFiles: [{ filePattern: 'out.txt', destination: { container: { containerUrl: sasUrl(container, 'w'), path: 'result/out.txt' } }, uploadOptions: { uploadCondition: 'taskcompletion' } }],
    containerSettings: { imageName: IMAGE, containerRunOptions: '--env X=1' },
  });
  const task = await waitForTaskState(server.batch, jobId, 'boxed', 'completed', 90_000);
  const stdout = await taskFile(server.batch, jobId, 'boxed', 'stdout.txt');
  assert.equal(task.executionInfo?.exitCode, 0, `${JSON.stringify(task.executionInfo)}\n${stdout}\n${await taskFile(server.batch, jobId, 'boxed', 'stderr.txt')}`);
  const prep = await server.batch.job.listPreparationAndReleaseTaskStatus(jobId);
  assert.equal(prep[0]?.jobPreparationTaskExecutionInfo?.exitCode, 0, JSON.stringify(prep[0]?.jobPreparationTaskExecutionInfo));
  const out = await readStream((await container.getBlobClient('result/out.txt').download()).readableStreamBody);
  return { lines: stdout.trim().split('\n'), out, jobId };
}

function assertSeenInside(out: string, jobId: string): void {
  const wd = /wd=(\S+)/.exec(out)?.[1] ?? '';
  assert.match(out, new RegExp(`^hello from blob task=boxed job=${jobId} wd=/\\S+/wd pwd=${wd.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} x=1 mine=set inside`));
}

describe('container tasks through Docker on process nodes', { skip }, () => {
  let server: TestServer;
  let poolId: string;
  before(async () => {
    server = await startTestServer({ config: { containerEngine: 'docker', dockerHost: daemon.host } });
    poolId = uniqueId('Docker');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, taskSlotsPerNode: 2, ...containerPool(), startTask: startTaskInContainer });
  });
  after(() => server?.stop());

  test('a task reads its resource file, writes an output file to a blob SAS, sees AZ_BATCH_* and --env X=1, in a Docker container', { timeout: 120_000 }, async () => {
    const { lines, out, jobId } = await runBoxedTask(server, poolId, [
      'cat /proc/1/comm',
      `test -e ${process.execPath} && echo host-node || echo no-host-node`,
      'cat $AZ_BATCH_NODE_SHARED_DIR/start-pid1.txt',
      // Docker's own mark on the containers it runs.
      'test -e /.dockerenv && echo docker || echo not-docker',
    ]);
    // PID 1 is the command line's shell and the host's Node.js is not there: it ran in the image's container; so did the start task.
    assert.deepEqual(lines, ['sh', 'no-host-node', 'sh', 'docker']);
    assertSeenInside(out, jobId);
    assert.deepEqual(dockerContainers('lapis-task-'), [], 'the task containers are removed');
  });

  test('an image that is not there and cannot be pulled fails the task with ContainerInvalidImage', { timeout: 120_000 }, async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'missing', commandLine: '/bin/true', containerSettings: { imageName: 'localhost:1/lapis-test/none:missing' } });
    const task = await waitForTaskState(server.batch, jobId, 'missing', 'completed', 90_000);
    assert.equal(task.executionInfo?.failureInfo?.code, 'ContainerInvalidImage', JSON.stringify(task.executionInfo));
    assert.equal(task.executionInfo?.failureInfo?.category, 'usererror');
    assert.equal(task.executionInfo?.failureInfo?.details?.find((detail) => detail.name === 'ContainerImage')?.value, 'localhost:1/lapis-test/none:missing');
  });

  test("a container Docker cannot create fails with ContainerInvalidSettings, Docker's reason in stderr.txt; a command not in the image exits 127", { timeout: 120_000 }, async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    // Docker refuses a memory limit under 6 MB before it creates the container.
    await server.batch.task.add(jobId, { id: 'tiny', commandLine: '/bin/true', containerSettings: { imageName: IMAGE, containerRunOptions: '--memory 1k' } });
    await server.batch.task.add(jobId, { id: 'absent', commandLine: '/no/such/command', containerSettings: { imageName: IMAGE } });
    const tiny = await waitForTaskState(server.batch, jobId, 'tiny', 'completed', 90_000);
    assert.equal(tiny.executionInfo?.failureInfo?.code, 'ContainerInvalidSettings', JSON.stringify(tiny.executionInfo));
    assert.match(await taskFile(server.batch, jobId, 'tiny', 'stderr.txt'), /memory/i);
    const absent = await waitForTaskState(server.batch, jobId, 'absent', 'completed', 90_000);
    assert.equal(absent.executionInfo?.exitCode, 127, JSON.stringify(absent.executionInfo));
  });

  test('terminating a task kills and removes its container', { timeout: 120_000 }, async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'sleeper', commandLine: '/bin/sleep 600', containerSettings: { imageName: IMAGE } });
    await waitFor(async () => (dockerContainers('lapis-task-').length > 0 ? true : undefined), { timeoutMs: 60_000, what: 'the task container to start' });
    await server.batch.task.terminate(jobId, 'sleeper');
    const task = await waitForTaskState(server.batch, jobId, 'sleeper', 'completed');
    assert.equal(task.executionInfo?.failureInfo?.code, 'TaskEnded', JSON.stringify(task.executionInfo));
    await waitFor(async () => (dockerContainers('lapis-task-').length === 0 ? true : undefined), { timeoutMs: 30_000, what: 'the task container to be removed' });
  });
});

describe('container tasks through Docker on container nodes', { skip }, () => {
  let server: TestServer;
  let poolId: string;
  before(async () => {
    server = await startTestServer({ config: { nodeRuntime: 'container', nodeImages: [`${CONTAINER_READY}=${IMAGE}`], containerEngine: 'docker', dockerHost: daemon.host } });
    poolId = uniqueId('DockerNodes');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, ...containerPool(), startTask: startTaskInContainer });
  });
  after(() => server?.stop());

  test('the node is a Docker container; its container task runs beside it, as its sibling', { timeout: 120_000 }, async () => {
    const [node] = await server.batch.computeNode.list(poolId);
    assert.equal(node?.state, 'idle', JSON.stringify(node?.startTaskInfo));
    const [nodeName] = dockerContainers('lapis-').filter((name) => name.endsWith(`-${node?.id}`));
    assert.ok(nodeName, `node ${node?.id} is a container of the test's daemon`);
    const { lines, out, jobId } = await runBoxedTask(server, poolId, [
      'cat /proc/1/comm',
      'test -e /opt/lapis/node && echo agent-here || echo no-agent',
      'cat $AZ_BATCH_NODE_SHARED_DIR/start-pid1.txt',
      'test -e /.dockerenv && echo docker || echo not-docker',
    ]);
    // Not in the node (whose PID 1 is the engine's init and which holds the agent): in a container of its own, as was the start task.
    assert.deepEqual(lines, ['sh', 'no-agent', 'sh', 'docker']);
    assertSeenInside(out, jobId);
    assert.deepEqual(siblingsOf(nodeName), [], 'the siblings are removed');
  });

  test('a node whose Docker container is killed goes unknown, its task is requeued, and the node comes back', { timeout: 120_000 }, async () => {
    const jobId = uniqueId('KillJob');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    // The first run marks the node's shared directory and blocks; the rerun finds the mark and ends.
    const commandLine = "/bin/sh -c 'if [ -e $AZ_BATCH_NODE_SHARED_DIR/started ]; then echo rerun; else touch $AZ_BATCH_NODE_SHARED_DIR/started; exec sleep 300; fi'";
    await server.batch.task.add(jobId, { id: 'stranded', commandLine, containerSettings: { imageName: IMAGE } });
    const running = await waitForTaskState(server.batch, jobId, 'stranded', 'running', 60_000);
    const nodeId = running.nodeInfo?.nodeId as string;
    await waitFor(async () => ((await server.batch.file.getPropertiesFromComputeNode(poolId, nodeId, 'shared/started').catch(() => undefined)) ? true : undefined));
    const [nodeName] = dockerContainers('lapis-').filter((name) => name.endsWith(`-${nodeId}`));
    assert.ok(nodeName, 'the node is a container');
    daemon.docker(['kill', nodeName]);
    const task = await waitForTaskState(server.batch, jobId, 'stranded', 'completed', 90_000);
    assert.equal(task.executionInfo?.requeueCount, 1, JSON.stringify(task.executionInfo));
    assert.match(await taskFile(server.batch, jobId, 'stranded', 'stdout.txt'), /rerun/);
    await waitFor(async () => ((await server.batch.computeNode.get(poolId, nodeId)).state === 'idle' ? true : undefined), { timeoutMs: 60_000, what: 'the node to come back' });
    // The lost node's first run (its sleep) went with it.
    await waitFor(async () => (siblingsOf(nodeName).length === 0 ? true : undefined), { what: 'the lost run\'s container to be removed' });
  });
});
