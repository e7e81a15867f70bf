// Container pools and tasks on process nodes (pool containerConfiguration,
// task containerSettings), driven through @azure/batch against a real server
// with Podman and the Debian image built on this machine (.ci/run builds it:
// scripts/build-test-node-image.sh). The engine's tests are skipped, saying
// why, where either is missing; what needs no engine always runs.

import type { BatchServiceModels } from '@azure/batch';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, batchError, poolSpec, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { TEST_NODE_IMAGE, testNodeImageMissing } from '../../src/testkit/test-node-image.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';
import { containerPool, sasUrl, taskFile } from '../fixtures/container-workloads.js';

const IMAGE = TEST_NODE_IMAGE;

/** The image Nextflow's Azure Batch executor picks for its default pool (nf-azure AzBatchService.getImage: SKU id, OS type, verification, publisher, offer). */
async function nextflowDefaultImage(server: TestServer): Promise<BatchServiceModels.ImageInformation | undefined> {
  const images = await server.batch.account.listSupportedImages();
  return images.find(
    (image) =>
      image.nodeAgentSKUId.toLowerCase() === 'batch.node.ubuntu 20.04' &&
      image.osType === 'linux' &&
      image.verificationType === 'verified' &&
      image.imageReference.publisher?.toLowerCase() === 'microsoft-azure-batch' &&
      image.imageReference.offer?.toLowerCase() === 'ubuntu-server-container',
  );
}

function taskContainers(): string[] {
  return execFileSync('podman', ['ps', '-a', '--format', '{{.Names}}'], { encoding: 'utf8' })
    .split('\n')
    .filter((name) => name.startsWith('lapis-task-'));
}

describe('container pools: what needs no engine', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ config: { containers: 'host' } });
  });
  after(() => server?.stop());

  test("Nextflow's default pool image is listed, not DockerCompatible: --containers host ignores the images", async () => {
    const image = await nextflowDefaultImage(server);
    assert.equal(image?.imageReference.sku, '20-04-lts');
    assert.deepEqual(image?.capabilities, []);
  });

  test('dangerous containerRunOptions are refused, naming the option; the task is not added', async () => {
    const poolId = uniqueId('HostContainers');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 0, ...containerPool() });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    for (const options of ['--privileged', '-v /:/host', '--volume=/etc:/etc', '--pid host', '--network container:other', '--cap-add SYS_ADMIN', '--device /dev/sda', '--security-opt seccomp=unconfined', '--user 0']) {
      await assert.rejects(
        server.batch.task.add(jobId, { id: 'bad', commandLine: '/bin/true', containerSettings: { imageName: IMAGE, containerRunOptions: options } }),
        (error: { code?: string; statusCode?: number; body?: { values?: { key: string; value: string }[] } }) => {
          assert.equal(error.code, 'InvalidPropertyValue', options);
          assert.equal(error.statusCode, 400);
          const reason = error.body?.values?.find((value) => value.key === 'Reason')?.value ?? '';
          assert.match(reason, new RegExp(options.split(/[ =]/)[0] as string), `${options}: ${reason}`);
          return true;
        },
      );
    }
    await assert.rejects(server.batch.task.get(jobId, 'bad'), batchError('TaskNotFound', 404));
  });

  test("a registry's identityReference is refused; its password is never answered", async () => {
    const base = containerPool();
    const withIdentity = {
      ...base.virtualMachineConfiguration,
      containerConfiguration: { containerRegistries: [{ registryServer: 'example.azurecr.io', identityReference: { resourceId: '/subscriptions/x' } }] },
    } as BatchServiceModels.VirtualMachineConfiguration;
    await assert.rejects(server.batch.pool.add(poolSpec(uniqueId('Identity'), { virtualMachineConfiguration: withIdentity })), batchError('InvalidPropertyValue', 400));
    const poolId = uniqueId('Registry');
    const withPassword = {
      ...base.virtualMachineConfiguration,
      containerConfiguration: { containerRegistries: [{ registryServer: 'example.azurecr.io', userName: 'me', password: 'hunter2-secret' }] },
    } as BatchServiceModels.VirtualMachineConfiguration;
    await server.batch.pool.add(poolSpec(poolId, { targetDedicatedNodes: 0, virtualMachineConfiguration: withPassword }));
    const pool = await server.batch.pool.get(poolId);
    assert.equal(pool.virtualMachineConfiguration?.containerConfiguration?.containerRegistries?.[0]?.userName, 'me');
    assert.equal(JSON.stringify(pool).includes('hunter2-secret'), false);

    // Everywhere else a registry can be: a job's manager, preparation and release tasks, a schedule's job, an auto pool, a task.
    const registry = { registryServer: 'example.azurecr.io', userName: 'me', password: 'hunter2-secret' };
    const containerSettings = { imageName: IMAGE, registry };
    const jobId = uniqueId('RegistryJob');
    await server.batch.job.add({
      id: jobId,
      poolInfo: { poolId },
      jobManagerTask: { id: 'manager', commandLine: '/bin/true', containerSettings },
      jobPreparationTask: { commandLine: '/bin/true', containerSettings },
      jobReleaseTask: { commandLine: '/bin/true', containerSettings },
    });
    await server.batch.task.add(jobId, { id: 'pulls', commandLine: '/bin/true', containerSettings });
    const scheduleId = uniqueId('RegistrySchedule');
    await server.batch.jobSchedule.add({
      id: scheduleId,
      schedule: { recurrenceInterval: 'PT1H' },
      jobSpecification: {
        poolInfo: { autoPoolSpecification: { poolLifetimeOption: 'job', pool: { ...poolSpec('unused', { targetDedicatedNodes: 0, virtualMachineConfiguration: withPassword }), id: undefined } as never } },
        jobManagerTask: { id: 'manager', commandLine: '/bin/true', containerSettings },
      },
    });
    const answers = [
      await server.batch.job.get(jobId),
      [...(await server.batch.job.list())],
      await server.batch.task.get(jobId, 'pulls'),
      [...(await server.batch.task.list(jobId))],
      await server.batch.jobSchedule.get(scheduleId),
      [...(await server.batch.jobSchedule.list())],
    ];
    for (const answer of answers) assert.equal(JSON.stringify(answer).includes('hunter2-secret'), false, JSON.stringify(answer));
    assert.equal((await server.batch.job.get(jobId)).jobManagerTask?.containerSettings?.registry?.userName, 'me');
    await server.batch.jobSchedule.deleteMethod(scheduleId);
    await server.batch.job.deleteMethod(jobId);
  });

  test('with --containers host a container task runs on the node itself, its image ignored', async () => {
    const poolId = uniqueId('HostRun');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, ...containerPool() });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'boxed', commandLine: '/bin/sh -c "echo ran $AZ_BATCH_TASK_ID"', containerSettings: { imageName: IMAGE } });
    const task = await waitForTaskState(server.batch, jobId, 'boxed', 'completed');
    assert.equal(task.executionInfo?.exitCode, 0, JSON.stringify(task.executionInfo));
    assert.equal((await taskFile(server.batch, jobId, 'boxed', 'stdout.txt')).trim(), 'ran boxed');
  });

  test('a task with containerSettings on a pool without containerConfiguration fails with ContainerPoolNotSupported', async () => {
    const poolId = uniqueId('Plain');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'boxed', commandLine: '/bin/true', containerSettings: { imageName: IMAGE } });
    const task = await waitForTaskState(server.batch, jobId, 'boxed', 'completed');
    assert.equal(task.executionInfo?.failureInfo?.code, 'ContainerPoolNotSupported');
    assert.equal(task.executionInfo?.result, 'failure');
  });
});

// Container nodes run container pools too: container-tasks-on-container-nodes.test.ts.
for (const [what, config, listsContainerReadyImage] of [
  // A socket nobody serves: the same on a machine whose own Docker daemon runs.
  ['a server whose engine is missing or does not answer (Docker without its daemon)', { containerEngine: 'docker' as const, dockerHost: 'unix:///nonexistent/lapis-test/docker.sock' }, false],
] as const) {
  describe(`container pools on ${what}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ config });
    });
    after(() => server?.stop());

    test('are refused, saying what is missing and naming --containers host', async () => {
      await assert.rejects(server.batch.pool.add(poolSpec(uniqueId('NoEngine'), containerPool())), (error: { code?: string; body?: { values?: { key: string; value: string }[] } }) => {
        assert.equal(error.code, 'InvalidPropertyValue');
        const reason = error.body?.values?.find((value) => value.key === 'Reason')?.value ?? '';
        assert.match(reason, /(container engine|Container nodes).*--containers host/);
        return true;
      });
    });

    test(`${listsContainerReadyImage ? 'list' : 'do not list'} Batch's container-ready image, never DockerCompatible`, async () => {
      const image = await nextflowDefaultImage(server);
      if (listsContainerReadyImage) assert.deepEqual(image?.capabilities, []);
      else assert.equal(image, undefined);
    });
  });
}

describe('container tasks through Podman', { skip: testNodeImageMissing() }, () => {
  let server: TestServer;
  let poolId: string;
  before(async () => {
    server = await startTestServer();
    poolId = uniqueId('Containers');
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
  });
  after(() => server?.stop());

  test('a task reads its resource file, writes an output file to a blob SAS, sees AZ_BATCH_* and its run options, in the image', { timeout: 120_000 }, async () => {
    const container = server.blob.getContainerClient(uniqueId('ct').toLowerCase());
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
      'echo " task=$AZ_BATCH_TASK_ID job=$AZ_BATCH_JOB_ID wd=$AZ_BATCH_TASK_WORKING_DIR pwd=$(pwd) x=$X mine=$MINE" >> out.txt',
      'cat /proc/1/comm',
      `test -e ${process.execPath} && echo host-node || echo no-host-node`,
      'cat $AZ_BATCH_NODE_SHARED_DIR/start-pid1.txt',
    ].join('; ');
    await server.batch.task.add(jobId, {
      id: 'boxed',
      commandLine: `/bin/sh -c '${script}'`,
      resourceFiles: [{ storageContainerUrl: sasUrl(container, 'rl'), blobPrefix: 'input.txt' }],
      environmentSettings: [{ name: 'MINE', value: 'set inside' }],
      outputFiles: [{ filePattern: 'out.txt', destination: { container: { containerUrl: sasUrl(container, 'w'), path: 'result/out.txt' } }, uploadOptions: { uploadCondition: 'taskcompletion' } }],
      containerSettings: { imageName: IMAGE, containerRunOptions: '--rm --env X=1' },
    });
    const task = await waitForTaskState(server.batch, jobId, 'boxed', 'completed', 90_000);
    const stdout = await taskFile(server.batch, jobId, 'boxed', 'stdout.txt');
    assert.equal(task.executionInfo?.exitCode, 0, `${JSON.stringify(task.executionInfo)}\n${stdout}\n${await taskFile(server.batch, jobId, 'boxed', 'stderr.txt')}`);
    // PID 1 is the command line's shell, and the host's Node.js is not there: it ran in the image's container; so did the start task.
    assert.deepEqual(stdout.trim().split('\n'), ['sh', 'no-host-node', 'sh']);
    const out = await readStream((await container.getBlobClient('result/out.txt').download()).readableStreamBody);
    const wd = /wd=(\S+)/.exec(out)?.[1] ?? '';
    assert.match(out, new RegExp(`^hello from blob task=boxed job=${jobId} wd=/\\S+/wd pwd=${wd.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} x=1 mine=set inside`));
    const prep = await server.batch.job.listPreparationAndReleaseTaskStatus(jobId);
    assert.equal(prep[0]?.jobPreparationTaskExecutionInfo?.exitCode, 0);
    assert.deepEqual(taskContainers(), [], 'the task containers are removed');
  });

  test("Nextflow's default pool image is listed DockerCompatible: the engine runs its containers", async () => {
    const image = await nextflowDefaultImage(server);
    assert.equal(image?.imageReference.sku, '20-04-lts');
    assert.deepEqual(image?.capabilities, ['DockerCompatible']);
    assert.equal(image?.batchSupportEndOfLife?.toISOString(), '2025-04-23T00:00:00.000Z');
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

  test('a task without containerSettings on a container pool fails with ContainerTaskSettingsNotFound', async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'bare', commandLine: '/bin/true' });
    const task = await waitForTaskState(server.batch, jobId, 'bare', 'completed');
    assert.equal(task.executionInfo?.failureInfo?.code, 'ContainerTaskSettingsNotFound');
  });

  test('terminating a task kills and removes its container', { timeout: 120_000 }, async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'sleeper', commandLine: '/bin/sleep 600', containerSettings: { imageName: IMAGE } });
    await waitFor(async () => (taskContainers().length > 0 ? true : undefined), { timeoutMs: 60_000, what: 'the task container to start' });
    await server.batch.task.terminate(jobId, 'sleeper');
    await waitForTaskState(server.batch, jobId, 'sleeper', 'completed');
    await waitFor(async () => (taskContainers().length === 0 ? true : undefined), { timeoutMs: 30_000, what: 'the task container to be removed' });
  });

  test('a pool whose containerImageNames cannot be had leaves its node unusable, its errors saying ContainerInvalidImage', { timeout: 120_000 }, async () => {
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
    assertInvalidImageErrors(node, 'localhost:1/lapis-test/none:missing');
    assertInvalidImageErrors(await server.batch.computeNode.get(badPool, node.id as string), 'localhost:1/lapis-test/none:missing');
  });

  test('a reimaged node checks its pool images again: one removed meanwhile leaves it unusable', { timeout: 180_000 }, async () => {
    // A tag of its own for the test image: removing the tag leaves the image, which other tests use, in place.
    const tag = `localhost/lapis-test/debian:reimage-${uniqueId('t').toLowerCase()}`;
    execFileSync('podman', ['tag', IMAGE, tag]);
    try {
      const reimagedPool = uniqueId('Reimaged');
      await addPoolAndWait(server.batch, reimagedPool, { targetDedicatedNodes: 1, ...containerPool([tag]) });
      const [node] = await server.batch.computeNode.list(reimagedPool);
      assert.equal(node?.state, 'idle');
      assert.equal(node?.errors, undefined);
      untag(tag);
      await server.batch.computeNode.reimage(reimagedPool, node?.id as string);
      const reimaged = await waitFor(
        async () => {
          const current = await server.batch.computeNode.get(reimagedPool, node?.id as string);
          return current.state === 'unusable' || current.state === 'idle' ? current : undefined;
        },
        { timeoutMs: 120_000, what: 'the reimage to end' },
      );
      assert.equal(reimaged.state, 'unusable');
      assertInvalidImageErrors(reimaged, tag);
    } finally {
      untag(tag);
    }
  });
});

/** Removes a name of the test image (never the image itself); a name already gone is fine. */
function untag(name: string): void {
  if (spawnSync('podman', ['image', 'exists', name]).status === 0) execFileSync('podman', ['untag', name, name]);
}

function assertInvalidImageErrors(node: BatchServiceModels.ComputeNode, image: string): void {
  assert.equal(node.errors?.length, 1, JSON.stringify(node.errors));
  const [error] = node.errors ?? [];
  assert.equal(error?.code, 'ContainerInvalidImage');
  assert.equal(error?.message, 'One or more container images specified are invalid');
  assert.equal(error?.errorDetails?.find((detail) => detail.name === 'ContainerImage')?.value, image);
  assert.ok(error?.errorDetails?.find((detail) => detail.name === 'Message')?.value, 'the engine says why');
}
