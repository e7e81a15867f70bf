// Container pools and tasks on container nodes (--node-runtime container):
// a node has no engine inside, so its host runs each container run beside it
// (providers/container/sibling-containers.ts). Driven through @azure/batch
// against a real server with Podman and the Debian image built on this
// machine (scripts/build-test-node-image.sh); skipped, saying why, where
// either is missing.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hostnameOf } from '../../src/providers/container/container-agent-host.js';
import { addPoolAndWait, batchError, poolSpec, readStream, uniqueId, waitForPoolSteady, waitForTaskState } from '../../src/testkit/builders.js';
import { TEST_NODE_IMAGE, testNodeImageMissing } from '../../src/testkit/test-node-image.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';
import { serveLapis, type ServedLapis } from '../fixtures/reliability.js';
import { containerPool, sasUrl, taskFile } from '../fixtures/container-workloads.js';

const IMAGE = TEST_NODE_IMAGE;
/** Batch's container-ready Ubuntu, which Nextflow's and Snakemake's pools name, run here on the test image. */
const CONTAINER_READY = 'microsoft-azure-batch/ubuntu-server-container/20-04-lts';

/** The node's own container (its agent's), found by its name. */
function nodeContainer(nodeId: string): string {
  const name = execFileSync('podman', ['ps', '--format', '{{.Names}}'], { encoding: 'utf8' })
    .split('\n')
    .find((candidate) => candidate.endsWith(`-${nodeId}`));
  assert.ok(name, `node ${nodeId} is a container`);
  return name;
}

/** The containers run beside a node (its container runs), running or not. */
function siblingsOf(nodeContainerName: string): string[] {
  return execFileSync('podman', ['ps', '-a', '--filter', `label=lapis.sibling-of=${nodeContainerName}`, '--format', '{{.Names}}'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

describe('container tasks on container nodes', { skip: testNodeImageMissing() }, () => {
  let server: TestServer;
  let poolId: string;
  let nodeName: string;
  before(async () => {
    server = await startTestServer({ config: { nodeRuntime: 'container', nodeImages: [`${CONTAINER_READY}=${IMAGE}`] } });
    poolId = uniqueId('Siblings');
    await addPoolAndWait(server.batch, poolId, {
      targetDedicatedNodes: 1,
      taskSlotsPerNode: 2,
      ...containerPool(),
      startTask: {
        commandLine: '/bin/sh -c "cat /proc/1/comm > $AZ_BATCH_NODE_SHARED_DIR/start-pid1.txt"',
        containerSettings: { imageName: IMAGE },
        userIdentity: { autoUser: { scope: 'pool', elevationLevel: 'admin' } },
        waitForSuccess: true,
      },
    });
    const [node] = await server.batch.computeNode.list(poolId);
    assert.equal(node?.state, 'idle', JSON.stringify(node?.startTaskInfo));
    nodeName = nodeContainer(node?.id as string);
  });
  after(() => server?.stop());

  test('a task reads its resource file, writes an output file to a blob SAS, sees AZ_BATCH_* and its run options, beside its node', { timeout: 120_000 }, async () => {
    const container = server.blob.getContainerClient(uniqueId('sib').toLowerCase());
    await container.create();
    await container.getBlockBlobClient('input.txt').upload('hello from blob', 15);
    const jobId = uniqueId('Job');
    await server.batch.job.add({
      id: jobId,
      poolInfo: { poolId },
      jobPreparationTask: { commandLine: '/bin/sh -c "cat /proc/1/comm > prep-pid1.txt"', containerSettings: { imageName: IMAGE } },
    });
    const script = [
      'cat input.txt > out.txt',
      'echo " task=$AZ_BATCH_TASK_ID root=$AZ_BATCH_NODE_ROOT_DIR pwd=$(pwd) x=$X mine=$MINE" >> out.txt',
      'cat /proc/1/comm',
      'test -e /opt/lapis/node && echo agent-here || echo no-agent',
      'cat $AZ_BATCH_NODE_SHARED_DIR/start-pid1.txt',
      'id -u',
      'read inside host count < /proc/self/uid_map; echo $host',
      'hostname',
    ].join('; ');
    await server.batch.task.add(jobId, {
      id: 'boxed',
      commandLine: `/bin/sh -c '${script}'`,
      resourceFiles: [{ storageContainerUrl: sasUrl(container, 'rl'), blobPrefix: 'input.txt' }],
      environmentSettings: [{ name: 'MINE', value: 'set inside' }],
      outputFiles: [{ filePattern: 'out.txt', destination: { container: { containerUrl: sasUrl(container, 'w'), path: 'result/out.txt' } }, uploadOptions: { uploadCondition: 'taskcompletion' } }],
      containerSettings: { imageName: IMAGE, containerRunOptions: '--env X=1' },
    });
    const task = await waitForTaskState(server.batch, jobId, 'boxed', 'completed', 90_000);
    const stdout = await taskFile(server.batch, jobId, 'boxed', 'stdout.txt');
    assert.equal(task.executionInfo?.exitCode, 0, `${JSON.stringify(task.executionInfo)}\n${stdout}\n${await taskFile(server.batch, jobId, 'boxed', 'stderr.txt')}`);
    const [pid1, agent, startPid1, uid, mappedRoot, hostname] = stdout.trim().split('\n');
    // PID 1 is the command line's shell and the node's agent is not there: it ran in a container of its own, as did the start task.
    assert.deepEqual([pid1, agent, startPid1], ['sh', 'no-agent', 'sh']);
    assert.notEqual(uid, '0', "a non-admin task runs as an account of its node, not as root");
    assert.ok(Number(mappedRoot) >= 1_000_000, `in its node's user namespace, not the host's ids (root is host uid ${mappedRoot})`);
    assert.equal(hostname, hostnameOf(task.nodeInfo?.nodeId as string), "its node's hostname");
    const out = await readStream((await container.getBlobClient('result/out.txt').download()).readableStreamBody);
    assert.match(out, new RegExp(`^hello from blob task=boxed root=/mnt/batch/tasks pwd=/mnt/batch/tasks/workitems/${jobId}/job-1/boxed/wd x=1 mine=set inside`));
    const [prep] = await server.batch.job.listPreparationAndReleaseTaskStatus(jobId);
    assert.equal(prep?.jobPreparationTaskExecutionInfo?.exitCode, 0, JSON.stringify(prep));
    assert.deepEqual(siblingsOf(nodeName), [], 'the container is removed once it has ended');
  });

  test("Batch's container-ready image is listed DockerCompatible: the host's engine runs its containers", async () => {
    const images = await server.batch.account.listSupportedImages();
    const ready = images.find((image) => image.imageReference.offer === 'ubuntu-server-container');
    assert.deepEqual(ready?.capabilities, ['DockerCompatible']);
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

  test("a pool whose containerImageNames cannot be had leaves its node unusable, its errors saying ContainerInvalidImage", { timeout: 120_000 }, async () => {
    const badPool = uniqueId('BadImage');
    await server.batch.pool.add(poolSpec(badPool, { targetDedicatedNodes: 1, ...containerPool(['localhost:1/lapis-test/none:missing']) }));
    const node = await waitFor(
      async () => {
        const [first] = await server.batch.computeNode.list(badPool);
        return first && first.state !== 'starting' && first.state !== 'creating' ? first : undefined;
      },
      { timeoutMs: 90_000, what: 'the node to leave starting' },
    );
    assert.equal(node.state, 'unusable');
    assert.equal(node.errors?.[0]?.code, 'ContainerInvalidImage', JSON.stringify(node.errors));
    assert.equal(node.errors?.[0]?.errorDetails?.find((detail) => detail.name === 'ContainerImage')?.value, 'localhost:1/lapis-test/none:missing');
    await server.batch.pool.deleteMethod(badPool);
  });

  test('run options that would reach outside the container are refused, as on process nodes', async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    for (const containerRunOptions of ['--privileged', '-v /:/host', '--network container:other', '--pid host', '--user 0']) {
      await assert.rejects(
        server.batch.task.add(jobId, { id: uniqueId('t'), commandLine: '/bin/true', containerSettings: { imageName: IMAGE, containerRunOptions } }),
        batchError('InvalidPropertyValue', 400),
        containerRunOptions,
      );
    }
  });

  test('terminating a task, or its maxWallClockTime, kills and removes its container', { timeout: 120_000 }, async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'sleeper', commandLine: '/bin/sleep 600', containerSettings: { imageName: IMAGE } });
    await waitFor(async () => (siblingsOf(nodeName).length > 0 ? true : undefined), { timeoutMs: 60_000, what: 'the container to start' });
    await server.batch.task.terminate(jobId, 'sleeper');
    const terminated = await waitForTaskState(server.batch, jobId, 'sleeper', 'completed');
    assert.equal(terminated.executionInfo?.failureInfo?.code, 'TaskEnded');
    await waitFor(async () => (siblingsOf(nodeName).length === 0 ? true : undefined), { timeoutMs: 30_000, what: 'the container to be removed' });

    await server.batch.task.add(jobId, { id: 'timed', commandLine: '/bin/sleep 600', constraints: { maxWallClockTime: 'PT3S' }, containerSettings: { imageName: IMAGE } });
    const timed = await waitForTaskState(server.batch, jobId, 'timed', 'completed', 60_000);
    assert.equal(timed.executionInfo?.failureInfo?.code, 'TaskEnded', JSON.stringify(timed.executionInfo));
    assert.match(timed.executionInfo?.failureInfo?.message ?? '', /maxWallClockTime/);
    await waitFor(async () => (siblingsOf(nodeName).length === 0 ? true : undefined), { timeoutMs: 30_000, what: 'the timed-out container to be removed' });
  });

  test("an admin task's link where a container task's stdout.txt goes is not followed onto the host", { timeout: 120_000 }, async () => {
    // A file of the host, which the node's root (another user on the host) may not write but root may.
    const victim = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-victim-')), 'victim.txt');
    fs.writeFileSync(victim, 'untouched\n', { mode: 0o600 });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    const next = `$AZ_BATCH_NODE_ROOT_DIR/workitems/${jobId}/job-1/victim`;
    await server.batch.task.add(jobId, {
      id: 'planter',
      commandLine: `/bin/sh -c 'mkdir -p ${next} && ln -s ${victim} ${next}/stdout.txt'`,
      userIdentity: { autoUser: { elevationLevel: 'admin' } },
      containerSettings: { imageName: IMAGE },
    });
    assert.equal((await waitForTaskState(server.batch, jobId, 'planter', 'completed', 60_000)).executionInfo?.exitCode, 0);
    await server.batch.task.add(jobId, { id: 'victim', commandLine: '/bin/echo overwritten', containerSettings: { imageName: IMAGE } });
    const task = await waitForTaskState(server.batch, jobId, 'victim', 'completed', 60_000);
    assert.equal(task.executionInfo?.result, 'failure', JSON.stringify(task.executionInfo));
    assert.equal(fs.readFileSync(victim, 'utf8'), 'untouched\n');
    fs.rmSync(path.dirname(victim), { recursive: true, force: true });
  });

  test('deleting the pool leaves no container beside its nodes', { timeout: 180_000 }, async () => {
    const doomed = uniqueId('Doomed');
    await addPoolAndWait(server.batch, doomed, { targetDedicatedNodes: 1, ...containerPool() });
    const [node] = await server.batch.computeNode.list(doomed);
    const name = nodeContainer(node?.id as string);
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId: doomed } });
    await server.batch.task.add(jobId, { id: 'long', commandLine: '/bin/sleep 600', containerSettings: { imageName: IMAGE } });
    await waitFor(async () => (siblingsOf(name).length > 0 ? true : undefined), { timeoutMs: 60_000, what: 'the container to start' });
    await server.batch.pool.deleteMethod(doomed);
    await waitFor(async () => ((await server.batch.pool.exists(doomed)).body ? undefined : true), { timeoutMs: 120_000, what: 'the pool to be deleted' });
    assert.deepEqual(siblingsOf(name), []);
  });
});

describe('container tasks on container nodes with --containers host', { skip: testNodeImageMissing() }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ config: { nodeRuntime: 'container', containers: 'host', nodeImages: [`${CONTAINER_READY}=${IMAGE}`] } });
  });
  after(() => server?.stop());

  test('a container task runs in the node itself, its image ignored, and nothing runs beside the node', { timeout: 120_000 }, async () => {
    const poolId = uniqueId('HostMode');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, ...containerPool() });
    const [node] = await server.batch.computeNode.list(poolId);
    const name = nodeContainer(node?.id as string);
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, {
      id: 'inside',
      commandLine: "/bin/sh -c 'test -e /opt/lapis/node && echo agent-here || echo no-agent'",
      containerSettings: { imageName: IMAGE },
    });
    const task = await waitForTaskState(server.batch, jobId, 'inside', 'completed', 60_000);
    assert.equal(task.executionInfo?.exitCode, 0, JSON.stringify(task.executionInfo));
    assert.equal((await taskFile(server.batch, jobId, 'inside', 'stdout.txt')).trim(), 'agent-here');
    assert.deepEqual(siblingsOf(name), []);
    const ready = (await server.batch.account.listSupportedImages()).find((image) => image.imageReference.offer === 'ubuntu-server-container');
    assert.deepEqual(ready?.capabilities, [], 'not DockerCompatible: the images are ignored');
  });
});

describe('container pools on container nodes: refusals before any node', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ config: { nodeRuntime: 'container', containerEngine: 'docker' } });
  });
  after(() => server?.stop());

  test('without a working engine a container pool is refused, naming what is missing and --containers host', async () => {
    await assert.rejects(server.batch.pool.add(poolSpec(uniqueId('NoEngine'), containerPool())), (error: { code?: string; body?: { values?: { key: string; value: string }[] } }) => {
      assert.equal(error.code, 'InvalidPropertyValue');
      assert.match(error.body?.values?.find((value) => value.key === 'Reason')?.value ?? '', /container engine.*--containers host/);
      return true;
    });
  });
});

describe('container tasks on container nodes across a server killed with -9', { skip: testNodeImageMissing() }, () => {
  test("the container a dead server's node ran is removed by the next server, and its task requeued", { timeout: 240_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-sibling-crash-'));
    const args = ['--node-runtime', 'container', '--node-image', `${CONTAINER_READY}=${IMAGE}`];
    let second: ServedLapis | undefined;
    const first = await serveLapis(dataDir, args);
    try {
      await first.batch.pool.add(poolSpec('CrashPool', { targetDedicatedNodes: 1, ...containerPool() }));
      await waitForPoolSteady(first.batch, 'CrashPool');
      const [node] = await first.batch.computeNode.list('CrashPool');
      const name = nodeContainer(node?.id as string);
      await first.batch.job.add({ id: 'CrashJob', poolInfo: { poolId: 'CrashPool' } });
      await first.batch.task.add('CrashJob', { id: 'stranded', commandLine: '/bin/sleep 600', containerSettings: { imageName: IMAGE } });
      const [orphan] = await waitFor(async () => (siblingsOf(name).length > 0 ? siblingsOf(name) : undefined), { timeoutMs: 60_000, what: 'the container to start' });
      await first.kill9();

      second = await serveLapis(dataDir, args);
      const batch = second.batch;
      const requeued = await waitFor(
        async () => {
          const task = await batch.task.get('CrashJob', 'stranded');
          return (task.executionInfo?.requeueCount ?? 0) >= 1 && task.state === 'running' ? task : undefined;
        },
        { timeoutMs: 120_000, what: 'the task to run again' },
      );
      assert.equal(requeued.executionInfo?.retryCount, 0);
      const running = await waitFor(async () => (siblingsOf(name).length > 0 ? siblingsOf(name) : undefined), { timeoutMs: 60_000, what: 'the task to run in a new container' });
      assert.equal(running.includes(orphan as string), false, 'the container the dead server left is gone; only the rerun runs');
      assert.equal(running.length, 1);
      await batch.pool.deleteMethod('CrashPool');
      await waitFor(async () => ((await batch.pool.exists('CrashPool')).body ? undefined : true), { timeoutMs: 120_000, what: 'the pool to be deleted' });
      assert.deepEqual(siblingsOf(name), []);
    } finally {
      await first.kill9();
      await second?.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
