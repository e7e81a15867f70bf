// Container nodes (--node-runtime container): each node is a container of
// its own, from the image its pool's imageReference maps to, with its agent
// as the main process. Driven through @azure/batch against a real server,
// Podman and a Debian image built on this machine (.ci/run builds it:
// scripts/build-test-node-image.sh). Skipped, saying why, where either is missing.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hostnameOf } from '../../src/providers/container/container-agent-host.js';
import { TEST_NODE_IMAGE, testNodeImageMissing } from '../../src/testkit/test-node-image.js';
import { addApplicationPackage } from '../../src/server/application-packages.js';
import { addPoolAndWait, readStream, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

const IMAGE = TEST_NODE_IMAGE;
const UBUNTU_FOCAL = 'canonical/0001-com-ubuntu-server-focal/20_04-lts';

const skip = testNodeImageMissing();

async function stdout(server: TestServer, jobId: string, taskId: string): Promise<string> {
  return readStream((await server.batch.file.getFromTask(jobId, taskId, 'stdout.txt')).readableStreamBody);
}

function containersOf(nodeId: string): string[] {
  return execFileSync('podman', ['ps', '--format', '{{.Names}}'], { encoding: 'utf8' })
    .split('\n')
    .filter((name) => name.endsWith(`-${nodeId}`));
}

describe('container nodes', { skip }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ config: { nodeRuntime: 'container', nodeImages: [`${UBUNTU_FOCAL}=${IMAGE}`], nodeHeartbeatTimeoutMs: 2_000 } });
  });
  after(() => server?.stop());

  test("five nodes whose start task installs a package with apt-get all become idle, and tasks use it", { timeout: 300_000 }, async () => {
    const { batch } = server;
    await batch.pool.add({
      id: 'AptPool',
      vmSize: 'STANDARD_DS1_V2',
      virtualMachineConfiguration: { imageReference: { publisher: 'canonical', offer: '0001-com-ubuntu-server-focal', sku: '20_04-lts' }, nodeAgentSKUId: 'batch.node.ubuntu 20.04' },
      targetDedicatedNodes: 5,
      startTask: {
        commandLine: "/bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hello'",
        userIdentity: { autoUser: { scope: 'pool', elevationLevel: 'admin' } },
        waitForSuccess: true,
      },
    });
    const nodes = await waitFor(
      async () => {
        const current = await batch.computeNode.list('AptPool');
        return current.length === 5 && current.every((node) => node.state !== 'starting' && node.state !== 'waitingforstarttask') ? current : undefined;
      },
      { timeoutMs: 240_000, what: 'five nodes to run their start task' },
    );
    assert.deepEqual(
      nodes.map((node) => node.state),
      ['idle', 'idle', 'idle', 'idle', 'idle'],
      `every node's apt-get ran in its own package database: ${JSON.stringify(nodes.map((node) => node.startTaskInfo?.failureInfo?.message))}`,
    );
    await batch.job.add({ id: 'AptJob', poolInfo: { poolId: 'AptPool' } });
    await batch.task.addCollection('AptJob', [0, 1, 2, 3, 4].map((index) => ({ id: `hello-${index}`, commandLine: '/usr/bin/hello' })));
    for (const index of [0, 1, 2, 3, 4]) {
      const task = await waitForTaskState(batch, 'AptJob', `hello-${index}`, 'completed', 60_000);
      assert.equal(task.executionInfo?.exitCode, 0);
      assert.match(await stdout(server, 'AptJob', `hello-${index}`), /Hello, world!/);
    }
    await batch.pool.deleteMethod('AptPool');
  });

  test('a task sees its node: its hostname, its own processes and /tmp, its size, Batch directories under /mnt/batch/tasks; admin is root in the node, others an account of the node', { timeout: 120_000 }, async () => {
    const { batch } = server;
    await addPoolAndWait(batch, 'SeePool', { targetDedicatedNodes: 2 });
    const [first, second] = (await batch.computeNode.list('SeePool')).map((node) => node.id as string);
    await batch.job.add({ id: 'SeeJob', poolInfo: { poolId: 'SeePool' } });
    const script =
      'hostname; ls /proc | grep -c "^[0-9]"; echo $AZ_BATCH_NODE_ROOT_DIR; id -u; cat /proc/self/uid_map; ' +
      // The node's memory limit: cgroup v2, else v1 (where, without a cgroup namespace, the node's group is a path below the mount).
      'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory$(grep :memory: /proc/self/cgroup | cut -d: -f3)/memory.limit_in_bytes; ' +
      'echo mark > /tmp/mark-$AZ_BATCH_NODE_ID; ls /tmp';
    await batch.task.add('SeeJob', { id: 'see', commandLine: `/bin/sh -c '${script}'`, userIdentity: { autoUser: { elevationLevel: 'admin' } } });
    const task = await waitForTaskState(batch, 'SeeJob', 'see', 'completed', 60_000);
    assert.equal(task.executionInfo?.exitCode, 0);
    const [hostname, processes, root, uid, uidMap, memoryLimit, ...tmp] = (await stdout(server, 'SeeJob', 'see')).trim().split('\n');
    const ranOn = task.nodeInfo?.nodeId as string;
    assert.equal(hostname, hostnameOf(ranOn), "the node's own hostname");
    assert.ok(Number(processes) < 20, `a process namespace of the node's own (${processes} processes)`);
    assert.equal(root, '/mnt/batch/tasks');
    assert.equal(Number(memoryLimit), 3.5 * 1024 ** 3, "the pool's vmSize (STANDARD_DS1_V2: 1 vCPU, 3.5 GiB) limits the node");
    assert.equal(uid, '0', 'admin is root in its node');
    const [inside, onHost] = (uidMap ?? '').trim().split(/\s+/).map(Number);
    assert.equal(inside, 0);
    assert.ok((onHost ?? 0) >= 1_000_000, `and not root on the host: the node's root is host uid ${onHost}`);
    const other = ranOn === first ? second : first;
    assert.ok(!tmp.some((name) => name === `mark-${other}`) && tmp.includes(`mark-${ranOn}`));
    // Without admin, a task runs as an account its node made, as on a Batch Linux node.
    await batch.task.add('SeeJob', { id: 'plain', commandLine: "/bin/sh -c 'id -un; id -u'" });
    const plain = await waitForTaskState(batch, 'SeeJob', 'plain', 'completed', 60_000);
    assert.equal(plain.executionInfo?.exitCode, 0);
    const [user, plainUid] = (await stdout(server, 'SeeJob', 'plain')).trim().split('\n');
    assert.match(user ?? '', /^_azbatch/);
    assert.notEqual(plainUid, '0', 'a non-admin task is not root in its node');
    await batch.pool.deleteMethod('SeePool');
  });

  test("a node whose container is killed goes unknown, its task is requeued, and the node comes back", { timeout: 120_000 }, async () => {
    const { batch } = server;
    await addPoolAndWait(batch, 'KillPool', { targetDedicatedNodes: 1 });
    await batch.job.add({ id: 'KillJob', poolInfo: { poolId: 'KillPool' } });
    // The first run marks the node's shared directory and blocks; the rerun finds the mark and ends.
    await batch.task.add('KillJob', { id: 'stranded', commandLine: "/bin/sh -c 'if [ -e /mnt/batch/tasks/shared/started ]; then echo rerun; else touch /mnt/batch/tasks/shared/started; exec sleep 300; fi'" });
    const running = await waitForTaskState(batch, 'KillJob', 'stranded', 'running', 60_000);
    const nodeId = running.nodeInfo?.nodeId as string;
    await waitFor(async () => ((await batch.file.getPropertiesFromComputeNode('KillPool', nodeId, 'shared/started').catch(() => undefined)) ? true : undefined));
    const [container] = containersOf(nodeId);
    assert.ok(container, 'the node is a container');
    execFileSync('podman', ['kill', container]);
    const task = await waitForTaskState(batch, 'KillJob', 'stranded', 'completed', 60_000);
    assert.equal(task.executionInfo?.requeueCount, 1);
    assert.match(await stdout(server, 'KillJob', 'stranded'), /rerun/);
    await waitFor(async () => ((await batch.computeNode.get('KillPool', nodeId)).state === 'idle' ? true : undefined), { what: 'the node to come back' });
    await batch.pool.deleteMethod('KillPool');
  });

  test('the supported images are what the container image table maps', async () => {
    const images = await server.batch.account.listSupportedImages();
    const keys = images.map((image) => `${image.imageReference.publisher}/${image.imageReference.offer}/${image.imageReference.sku}`);
    assert.ok(keys.includes(UBUNTU_FOCAL));
    assert.ok(keys.includes('debian/debian-11/11'), 'a built-in container mapping that process nodes do not list');
    assert.equal(images.find((image) => image.imageReference.offer === 'debian-11')?.nodeAgentSKUId, 'batch.node.debian 11');
  });

  test('a pool whose image maps to no container image gets unusable nodes, not nodes starting forever', { timeout: 60_000 }, async () => {
    const { batch } = server;
    await batch.pool.add({
      id: 'NoImagePool',
      vmSize: 'STANDARD_DS1_V2',
      virtualMachineConfiguration: { imageReference: { publisher: 'microsoftwindowsserver', offer: 'windowsserver', sku: '2022-datacenter' }, nodeAgentSKUId: 'batch.node.windows amd64' },
      targetDedicatedNodes: 1,
    });
    await waitFor(async () => {
      const nodes = await batch.computeNode.list('NoImagePool');
      return nodes.length === 1 && nodes[0]?.state === 'unusable' ? true : undefined;
    }, { what: 'the node to be unusable' });
    await batch.pool.deleteMethod('NoImagePool');
  });

  test('a reboot keeps what the node installed; a reimage starts it from its image again', { timeout: 120_000 }, async () => {
    const { batch } = server;
    await addPoolAndWait(batch, 'ImagePool', { targetDedicatedNodes: 1 });
    const [node] = await batch.computeNode.list('ImagePool');
    const nodeId = node?.id as string;
    await batch.job.add({ id: 'ImageJob', poolInfo: { poolId: 'ImagePool' } });
    const run = async (id: string, commandLine: string) => {
      await batch.task.add('ImageJob', { id, commandLine, userIdentity: { autoUser: { elevationLevel: 'admin' } } });
      return waitForTaskState(batch, 'ImageJob', id, 'completed', 60_000);
    };
    await run('install', "/bin/sh -c 'echo installed > /opt/tool'");
    await batch.computeNode.reboot('ImagePool', nodeId);
    await waitFor(async () => ((await batch.computeNode.get('ImagePool', nodeId)).state === 'idle' ? true : undefined));
    assert.equal((await run('after-reboot', '/bin/cat /opt/tool')).executionInfo?.exitCode, 0, 'a reboot keeps the node');
    await batch.computeNode.reimage('ImagePool', nodeId);
    await waitFor(async () => ((await batch.computeNode.get('ImagePool', nodeId)).state === 'idle' ? true : undefined));
    assert.notEqual((await run('after-reimage', '/bin/cat /opt/tool')).executionInfo?.exitCode, 0, 'a reimage starts from the image');
    await batch.pool.deleteMethod('ImagePool');
  });

  test('an application package the server holds reaches a container node over the agent protocol, files and modes intact', { timeout: 120_000 }, async () => {
    const { batch } = server;
    const source = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-package-'));
    fs.mkdirSync(path.join(source, 'bin'));
    fs.writeFileSync(path.join(source, 'bin', 'greet'), '#!/bin/sh\necho "hello from $(hostname)"\n', { mode: 0o755 });
    fs.mkdirSync(path.join(source, 'data'));
    fs.writeFileSync(path.join(source, 'data', 'big.bin'), Buffer.alloc(700_000, 7));
    await addApplicationPackage(server.dataDir, server.account.name, { applicationId: 'greeter', version: '1.0', source });
    fs.rmSync(source, { recursive: true });
    await addPoolAndWait(batch, 'PackagePool', { targetDedicatedNodes: 1, applicationPackageReferences: [{ applicationId: 'greeter', version: '1.0' }] });
    await batch.job.add({ id: 'PackageJob', poolInfo: { poolId: 'PackagePool' } });
    const script = '$AZ_BATCH_APP_PACKAGE_greeter_1_0/bin/greet; wc -c < $AZ_BATCH_APP_PACKAGE_greeter_1_0/data/big.bin; echo $AZ_BATCH_APP_PACKAGE_greeter_1_0';
    await batch.task.add('PackageJob', { id: 'greet', commandLine: `/bin/sh -c '${script}'` });
    const task = await waitForTaskState(batch, 'PackageJob', 'greet', 'completed', 60_000);
    assert.equal(task.executionInfo?.exitCode, 0, JSON.stringify(task.executionInfo));
    const [greeting, size, directory] = (await stdout(server, 'PackageJob', 'greet')).trim().split('\n');
    assert.equal(greeting, `hello from ${hostnameOf(task.nodeInfo?.nodeId as string)}`);
    assert.equal(size, '700000');
    assert.match(directory ?? '', /^\/mnt\/batch\/tasks\/applications\/greeter1\.0/);
    await batch.pool.deleteMethod('PackagePool');
  });

  test("links an admin task plants in its node's directories never lead the host through a reboot, a reimage or the node's removal", { timeout: 180_000 }, async () => {
    const { batch } = server;
    // What the host must keep: a directory and a file only host root can change.
    const sentinel = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-sentinel-'));
    fs.writeFileSync(path.join(sentinel, 'keep.txt'), 'host data');
    const owner = () => {
      const stats = fs.statSync(path.join(sentinel, 'keep.txt'));
      return `${stats.uid}:${stats.gid}:${fs.readFileSync(path.join(sentinel, 'keep.txt'), 'utf8')}`;
    };
    const before = owner();
    await addPoolAndWait(batch, 'LinkPool', { targetDedicatedNodes: 1 });
    const [node] = await batch.computeNode.list('LinkPool');
    const nodeId = node?.id as string;
    await batch.job.add({ id: 'LinkJob', poolInfo: { poolId: 'LinkPool' } });
    const plant = async (id: string) => {
      const links = [
        `ln -s ${sentinel} $AZ_BATCH_NODE_SHARED_DIR/to-host-dir`,
        `ln -s ${sentinel}/keep.txt $AZ_BATCH_NODE_SHARED_DIR/to-host-file`,
        `ln -s ${sentinel} $AZ_BATCH_NODE_ROOT_DIR/applications`,
        `rm -rf $AZ_BATCH_NODE_STARTUP_DIR; ln -s ${sentinel} $AZ_BATCH_NODE_STARTUP_DIR`,
        `ln -s ${sentinel} $AZ_BATCH_NODE_ROOT_DIR/../planted`,
      ].join('; ');
      await batch.task.add('LinkJob', { id, commandLine: `/bin/sh -c '${links}; true'`, userIdentity: { autoUser: { elevationLevel: 'admin' } } });
      return waitForTaskState(batch, 'LinkJob', id, 'completed', 60_000);
    };
    const idle = () =>
      waitFor(async () => ((await batch.computeNode.get('LinkPool', nodeId)).state === 'idle' ? true : undefined), { timeoutMs: 60_000, what: 'the node to be idle again' });
    await plant('plant-1');
    await batch.computeNode.reboot('LinkPool', nodeId);
    await idle();
    assert.equal(owner(), before, 'a reboot followed no link');
    await plant('plant-2');
    await batch.computeNode.reimage('LinkPool', nodeId);
    await idle();
    assert.equal(owner(), before, 'a reimage followed no link');
    await plant('plant-3');
    await batch.pool.deleteMethod('LinkPool');
    await waitFor(async () => ((await batch.pool.exists('LinkPool')).body ? undefined : true), { timeoutMs: 60_000 });
    assert.equal(owner(), before, "the node's removal followed no link");
    assert.deepEqual(fs.readdirSync(sentinel), ['keep.txt']);
    fs.rmSync(sentinel, { recursive: true });
  });
});
