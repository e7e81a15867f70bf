// Changing pools and nodes through @azure/batch: Pool_Patch,
// Pool_UpdateProperties, Pool_RemoveNodes, ComputeNode_DisableScheduling,
// ComputeNode_EnableScheduling, Account_ListPoolNodeCounts and the node file
// operations.

import { ContainerSASPermissions } from '@azure/storage-blob';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, batchError, httpError, poolSpec, readStream, uniqueId, waitForPoolSteady, waitForTaskState } from '../../src/testkit/builders.js';
import { signedRequest } from '../../src/testkit/signed-request.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

const START_TASK = { commandLine: '/bin/true', waitForSuccess: false };

describe('Pool_Patch and Pool_UpdateProperties', () => {
  test('patch merges: only the named properties change', async () => {
    const poolId = uniqueId('Patch');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 0, metadata: [{ name: 'team', value: 'a' }], startTask: START_TASK });
    const before = await server.batch.pool.get(poolId);
    const reply = await server.batch.pool.patch(poolId, { metadata: [{ name: 'team', value: 'b' }] });
    assert.notEqual(reply.eTag, before.eTag);
    const pool = await server.batch.pool.get(poolId);
    assert.deepEqual(pool.metadata, [{ name: 'team', value: 'b' }]);
    assert.equal(pool.startTask?.commandLine, '/bin/true', 'the start task is kept');
    assert.equal(pool.vmSize, before.vmSize);
  });

  test('updateProperties replaces: an omitted start task is removed', async () => {
    const poolId = uniqueId('Props');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 0, metadata: [{ name: 'team', value: 'a' }], startTask: START_TASK });
    const reply = await server.batch.pool.updateProperties(poolId, { certificateReferences: [], applicationPackageReferences: [], metadata: [] });
    assert.equal(reply._response.status, 204);
    const pool = await server.batch.pool.get(poolId);
    assert.equal(pool.startTask, undefined);
    assert.equal(pool.metadata, undefined);
  });

  test('updateProperties requires its lists; errors change nothing', async () => {
    const poolId = uniqueId('Props');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 0, metadata: [{ name: 'team', value: 'a' }] });
    const response = await signedRequest(server, 'POST', `/pools/${poolId}/updateproperties`, { body: JSON.stringify({ metadata: [] }) });
    assert.equal(response.status, 400);
    assert.equal(response.body.code, 'MissingRequiredProperty');
    assert.deepEqual((await server.batch.pool.get(poolId)).metadata, [{ name: 'team', value: 'a' }]);
    await assert.rejects(server.batch.pool.patch(uniqueId('Nope'), { metadata: [] }), batchError('PoolNotFound', 404));
  });
});

describe('Pool_RemoveNodes', () => {
  test('requeue: the named node leaves, its task goes back to the queue, the target shrinks', async () => {
    const poolId = uniqueId('Remove');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 2 });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'long', commandLine: '/bin/sleep 30' });
    const running = await waitForTaskState(server.batch, jobId, 'long', 'running');
    const busyNode = running.nodeInfo?.nodeId as string;
    await server.batch.pool.removeNodes(poolId, { nodeList: [busyNode] });
    const pool = await waitForPoolSteady(server.batch, poolId);
    assert.equal(pool.targetDedicatedNodes, 1);
    assert.equal(pool.currentDedicatedNodes, 1);
    const nodes = (await server.batch.computeNode.list(poolId)).map((node) => node.id);
    assert.ok(!nodes.includes(busyNode));
    const again = await waitForTaskState(server.batch, jobId, 'long', 'running');
    assert.equal(again.executionInfo?.requeueCount, 1);
    assert.notEqual(again.nodeInfo?.nodeId, busyNode);
    await server.batch.task.terminate(jobId, 'long');
  });

  test('taskcompletion: the node leaves once its running task has finished', async () => {
    const poolId = uniqueId('Drain');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'short', commandLine: '/bin/sleep 0.5' });
    const running = await waitForTaskState(server.batch, jobId, 'short', 'running');
    await server.batch.pool.removeNodes(poolId, { nodeList: [running.nodeInfo?.nodeId as string], nodeDeallocationOption: 'taskcompletion' });
    const leaving = await server.batch.computeNode.get(poolId, running.nodeInfo?.nodeId as string);
    assert.equal(leaving.state, 'leavingpool');
    const done = await waitForTaskState(server.batch, jobId, 'short', 'completed');
    assert.equal(done.executionInfo?.result, 'success');
    assert.equal(done.executionInfo?.requeueCount, 0);
    const pool = await waitForPoolSteady(server.batch, poolId);
    assert.equal(pool.currentDedicatedNodes, 0);
  });

  test('retaineddata: the node leaves once its task has finished and the task\'s retention time has passed', async () => {
    const poolId = uniqueId('Retain');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'kept', commandLine: '/bin/bash -c "sleep 0.5; echo kept"', constraints: { retentionTime: 'PT4S' } });
    const running = await waitForTaskState(server.batch, jobId, 'kept', 'running');
    const nodeId = running.nodeInfo?.nodeId as string;
    await server.batch.pool.removeNodes(poolId, { nodeList: [nodeId], nodeDeallocationOption: 'retaineddata' });
    const done = await waitForTaskState(server.batch, jobId, 'kept', 'completed');
    assert.equal(done.executionInfo?.result, 'success');
    // The task's files stay readable on the leaving node while they are retained.
    assert.equal((await server.batch.computeNode.get(poolId, nodeId)).state, 'leavingpool');
    assert.equal(await readStream((await server.batch.file.getFromTask(jobId, 'kept', 'stdout.txt')).readableStreamBody), 'kept\n');
    const pool = await waitForPoolSteady(server.batch, poolId);
    assert.equal(pool.currentDedicatedNodes, 0);
    const retainedUntil = Date.parse(done.executionInfo?.endTime?.toISOString() ?? '') + 4000;
    assert.ok(Date.now() >= retainedUntil, `the node left ${retainedUntil - Date.now()} ms before the retention time passed`);
  });

  test('reboot with retaineddata: the node reboots once its task has finished and the task\'s retention time has passed', async () => {
    const poolId = uniqueId('RetainReboot');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'kept', commandLine: '/bin/bash -c "sleep 0.5; echo kept"', constraints: { retentionTime: 'PT4S' } });
    const running = await waitForTaskState(server.batch, jobId, 'kept', 'running');
    const nodeId = running.nodeInfo?.nodeId as string;
    const bootedBefore = (await server.batch.computeNode.get(poolId, nodeId)).lastBootTime?.getTime();
    await server.batch.computeNode.reboot(poolId, nodeId, { nodeRebootOption: 'retaineddata' });
    const done = await waitForTaskState(server.batch, jobId, 'kept', 'completed');
    assert.equal(done.executionInfo?.result, 'success');
    assert.equal(done.executionInfo?.requeueCount, 0);
    // The finished task's files are still retained: the node waits, rebooting, and takes no new task.
    assert.equal((await server.batch.computeNode.get(poolId, nodeId)).state, 'rebooting');
    assert.equal(await readStream((await server.batch.file.getFromTask(jobId, 'kept', 'stdout.txt')).readableStreamBody), 'kept\n');
    const rebooted = await waitFor(async () => {
      const node = await server.batch.computeNode.get(poolId, nodeId);
      return node.state === 'idle' && node.lastBootTime?.getTime() !== bootedBefore ? node : undefined;
    }, { timeoutMs: 20_000 });
    const retainedUntil = Date.parse(done.executionInfo?.endTime?.toISOString() ?? '') + 4000;
    assert.ok((rebooted.lastBootTime?.getTime() ?? 0) >= retainedUntil, 'the node rebooted before the retention time passed');
  });

  test('unknown nodes and a resizing pool are refused', async () => {
    const poolId = uniqueId('Remove');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    await assert.rejects(server.batch.pool.removeNodes(poolId, { nodeList: ['tvmps_nope_d'] }), batchError('NodeNotFound', 404));
    await server.batch.pool.resize(poolId, { targetDedicatedNodes: 3 });
    const [node] = await server.batch.computeNode.list(poolId);
    await assert.rejects(server.batch.pool.removeNodes(poolId, { nodeList: [node?.id as string] }), batchError('PoolBeingResized', 409));
  });
});

describe('ComputeNode scheduling', () => {
  test('disable with requeue sends tasks elsewhere and leaves the node offline; enable makes it idle', async () => {
    const poolId = uniqueId('Sched');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 2 });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'long', commandLine: '/bin/sleep 30' });
    const first = await waitForTaskState(server.batch, jobId, 'long', 'running');
    const nodeId = first.nodeInfo?.nodeId as string;
    await server.batch.computeNode.disableScheduling(poolId, nodeId, { nodeDisableSchedulingOption: 'requeue' });
    const node = await server.batch.computeNode.get(poolId, nodeId);
    assert.equal(node.schedulingState, 'disabled');
    assert.equal(node.state, 'offline');
    const second = await waitFor(async () => {
      const task = await server.batch.task.get(jobId, 'long');
      return task.state === 'running' && task.nodeInfo?.nodeId !== nodeId ? task : undefined;
    });
    assert.equal(second.executionInfo?.requeueCount, 1);
    await assert.rejects(server.batch.computeNode.disableScheduling(poolId, nodeId), batchError('NodeAlreadyInTargetSchedulingState', 409));

    await server.batch.computeNode.enableScheduling(poolId, nodeId);
    const enabled = await server.batch.computeNode.get(poolId, nodeId);
    assert.equal(enabled.schedulingState, 'enabled');
    assert.equal(enabled.state, 'idle');
    await assert.rejects(server.batch.computeNode.enableScheduling(poolId, nodeId), batchError('NodeAlreadyInTargetSchedulingState', 409));
    await server.batch.task.terminate(jobId, 'long');
  });

  test('disable with taskcompletion lets the running task finish; nothing new starts there', async () => {
    const poolId = uniqueId('Sched');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'short', commandLine: '/bin/sleep 0.3' });
    const running = await waitForTaskState(server.batch, jobId, 'short', 'running');
    const nodeId = running.nodeInfo?.nodeId as string;
    await server.batch.computeNode.disableScheduling(poolId, nodeId, { nodeDisableSchedulingOption: 'taskcompletion' });
    assert.equal((await server.batch.computeNode.get(poolId, nodeId)).state, 'running');
    await server.batch.task.add(jobId, { id: 'later', commandLine: '/bin/true' });
    const done = await waitForTaskState(server.batch, jobId, 'short', 'completed');
    assert.equal(done.executionInfo?.result, 'success');
    await waitFor(async () => ((await server.batch.computeNode.get(poolId, nodeId)).state === 'offline' ? true : undefined));
    assert.equal((await server.batch.task.get(jobId, 'later')).state, 'active');
    await server.batch.computeNode.enableScheduling(poolId, nodeId);
    await waitForTaskState(server.batch, jobId, 'later', 'completed');
  });

  test('disable with terminate ends the running task', async () => {
    const poolId = uniqueId('Sched');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'long', commandLine: '/bin/sleep 30' });
    const running = await waitForTaskState(server.batch, jobId, 'long', 'running');
    await server.batch.computeNode.disableScheduling(poolId, running.nodeInfo?.nodeId as string, { nodeDisableSchedulingOption: 'terminate' });
    const ended = await server.batch.task.get(jobId, 'long');
    assert.equal(ended.state, 'completed');
    assert.equal(ended.executionInfo?.failureInfo?.code, 'TaskEnded');
  });
});

describe('Account_ListPoolNodeCounts', () => {
  test('counts each pool\'s nodes by state, dedicated and low priority apart', async () => {
    const poolId = uniqueId('Counts');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 2, targetLowPriorityNodes: 1 });
    const first = await server.batch.account.listPoolNodeCounts();
    assert.ok(first.length <= 10, 'at most 10 pools a page');
    const all = [...first];
    for (let link = first.odatanextLink; link; ) {
      const page: typeof first = await server.batch.account.listPoolNodeCountsNext(link);
      all.push(...page);
      link = page.odatanextLink;
    }
    const counts = all.find((entry) => entry.poolId === poolId);
    assert.ok(counts, all.map((entry) => entry.poolId).join(','));
    assert.equal(counts.dedicated?.idle, 2);
    assert.equal(counts.dedicated?.total, 2);
    assert.equal(counts.lowPriority?.idle, 1);
    assert.equal(counts.lowPriority?.total, 1);
    assert.equal(counts.dedicated?.startTaskFailed, 0);
  });
});

describe('files on a compute node', () => {
  test('list, read, properties and delete, confined to the node', async () => {
    const poolId = uniqueId('NodeFiles');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'writer', commandLine: '/bin/bash -c "echo from the node > $AZ_BATCH_NODE_SHARED_DIR/note.txt"' });
    const task = await waitForTaskState(server.batch, jobId, 'writer', 'completed');
    assert.equal(task.executionInfo?.result, 'success', JSON.stringify(task.executionInfo));
    const nodeId = task.nodeInfo?.nodeId as string;

    const top = (await server.batch.file.listFromComputeNode(poolId, nodeId)).map((file) => file.name);
    assert.ok(top.includes('shared') && top.includes('workitems'), top.join(','));
    const all = (await server.batch.file.listFromComputeNode(poolId, nodeId, { recursive: true })).map((file) => file.name);
    assert.ok(all.includes(`workitems/${jobId}/job-1/writer/stdout.txt`), all.join(','));

    const content = await readStream((await server.batch.file.getFromComputeNode(poolId, nodeId, 'shared/note.txt')).readableStreamBody);
    assert.equal(content, 'from the node\n');
    const properties = await server.batch.file.getPropertiesFromComputeNode(poolId, nodeId, 'shared/note.txt');
    assert.equal(properties.contentLength, 14);
    assert.equal(properties.ocpBatchFileUrl, `${server.lapis.batchUrl}/pools/${poolId}/nodes/${nodeId}/files/shared/note.txt`);

    await server.batch.file.deleteFromComputeNode(poolId, nodeId, 'shared/note.txt');
    await assert.rejects(server.batch.file.getPropertiesFromComputeNode(poolId, nodeId, 'shared/note.txt'), httpError(404));
    await assert.rejects(server.batch.file.listFromComputeNode(poolId, 'tvmps_nope_d'), batchError('NodeNotFound', 404));

    const escape = await signedRequest(server, 'GET', `/pools/${poolId}/nodes/${nodeId}/files/..%2F..%2F..%2Fetc%2Fpasswd`);
    assert.equal(escape.status, 404);
    assert.ok(!escape.text.includes('root:'));
  });
});

describe('ComputeNode_Reboot and ComputeNode_Reimage', () => {
  async function nodeWithFile(): Promise<{ poolId: string; nodeId: string; jobId: string }> {
    const poolId = uniqueId('Restart');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'writer', commandLine: '/bin/bash -c "echo kept > $AZ_BATCH_NODE_SHARED_DIR/mark.txt"' });
    const task = await waitForTaskState(server.batch, jobId, 'writer', 'completed');
    return { poolId, nodeId: task.nodeInfo?.nodeId as string, jobId };
  }

  async function waitForIdle(poolId: string, nodeId: string) {
    return waitFor(async () => {
      const node = await server.batch.computeNode.get(poolId, nodeId);
      return node.state === 'idle' ? node : undefined;
    });
  }

  test('reboot requeues the running task, keeps the node\'s files and boots it again', async () => {
    const { poolId, nodeId, jobId } = await nodeWithFile();
    const bootedAt = (await server.batch.computeNode.get(poolId, nodeId)).lastBootTime as Date;
    await server.batch.task.add(jobId, { id: 'long', commandLine: '/bin/sleep 30' });
    await waitForTaskState(server.batch, jobId, 'long', 'running');
    await server.batch.computeNode.reboot(poolId, nodeId);
    // Once booted, the node takes the requeued task again at once.
    const node = await waitFor(async () => {
      const current = await server.batch.computeNode.get(poolId, nodeId);
      return current.state === 'running' || current.state === 'idle' ? current : undefined;
    });
    assert.ok((node.lastBootTime as Date).getTime() > bootedAt.getTime(), "booted again");
    const content = await readStream((await server.batch.file.getFromComputeNode(poolId, nodeId, 'shared/mark.txt')).readableStreamBody);
    assert.equal(content, 'kept\n');
    const again = await waitForTaskState(server.batch, jobId, 'long', 'running');
    assert.equal(again.executionInfo?.requeueCount, 1);
    await server.batch.task.terminate(jobId, 'long');
  });

  test('reimage removes the node\'s files', async () => {
    const { poolId, nodeId } = await nodeWithFile();
    await server.batch.computeNode.reimage(poolId, nodeId, { nodeReimageOption: 'terminate' });
    await waitForIdle(poolId, nodeId);
    await assert.rejects(server.batch.file.getPropertiesFromComputeNode(poolId, nodeId, 'shared/mark.txt'), httpError(404));
    const top = (await server.batch.file.listFromComputeNode(poolId, nodeId)).map((file) => file.name);
    assert.ok(top.includes('shared'), 'the node\'s directories are there again');
  });

  test('a node that is already restarting is a conflict', async () => {
    const { poolId, nodeId, jobId } = await nodeWithFile();
    await server.batch.task.add(jobId, { id: 'short', commandLine: '/bin/sleep 0.5' });
    await waitForTaskState(server.batch, jobId, 'short', 'running');
    await server.batch.computeNode.reboot(poolId, nodeId, { nodeRebootOption: 'taskcompletion' });
    assert.equal((await server.batch.computeNode.get(poolId, nodeId)).state, 'rebooting');
    await assert.rejects(server.batch.computeNode.reboot(poolId, nodeId), batchError('NodeNotReady', 409));
    const done = await waitForTaskState(server.batch, jobId, 'short', 'completed');
    assert.equal(done.executionInfo?.result, 'success');
    await waitForIdle(poolId, nodeId);
  });
});

describe('node users, remote login and extensions', () => {
  test('users are added once per name, updated and deleted; passwords never come back', async () => {
    const poolId = uniqueId('Users');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    const [node] = await server.batch.computeNode.list(poolId);
    const nodeId = node?.id as string;
    const added = await server.batch.computeNode.addUser(poolId, nodeId, { name: 'alice', password: 'S3cret!pass', isAdmin: false });
    assert.equal(added._response.status, 201);
    await assert.rejects(server.batch.computeNode.addUser(poolId, nodeId, { name: 'ALICE' }), batchError('NodeUserExists', 409));
    await server.batch.computeNode.updateUser(poolId, nodeId, 'alice', { sshPublicKey: 'ssh-rsa AAAAB3NzaC1yc2E' });
    await assert.rejects(server.batch.computeNode.updateUser(poolId, nodeId, 'bob', {}), batchError('NodeUserNotFound', 404));
    const raw = await signedRequest(server, 'GET', `/pools/${poolId}/nodes/${nodeId}`);
    assert.ok(!raw.text.includes('S3cret') && !raw.text.includes('alice'), 'users and passwords are not part of the node');
    await server.batch.computeNode.deleteUser(poolId, nodeId, 'alice');
    await assert.rejects(server.batch.computeNode.deleteUser(poolId, nodeId, 'alice'), batchError('NodeUserNotFound', 404));
    const bad = await signedRequest(server, 'POST', `/pools/${poolId}/nodes/${nodeId}/users`, { body: JSON.stringify({ name: '../root' }) });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'InvalidPropertyValue');
  });

  test('remote login settings name the node\'s address; a local node has no extensions', async () => {
    const poolId = uniqueId('Login');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    const [node] = await server.batch.computeNode.list(poolId);
    const nodeId = node?.id as string;
    const login = await server.batch.computeNode.getRemoteLoginSettings(poolId, nodeId);
    assert.equal(login.remoteLoginIPAddress, '127.0.0.1');
    assert.equal(login.remoteLoginPort, 22);
    assert.deepEqual([...(await server.batch.computeNodeExtension.list(poolId, nodeId))], []);
    await assert.rejects(server.batch.computeNodeExtension.get(poolId, nodeId, 'CustomScript'), batchError('ResourceNotFound', 404));
    await assert.rejects(server.batch.computeNode.getRemoteLoginSettings(poolId, 'tvmps_nope_d'), batchError('NodeNotFound', 404));
  });

  test("a node answers its pool's VM extensions, each saying a local node did not install it; protectedSettings are never returned", async () => {
    const poolId = uniqueId('Extensions');
    const extension = { name: 'monitor', publisher: 'Microsoft.Azure.Extensions', type: 'CustomScript', typeHandlerVersion: '2.0', autoUpgradeMinorVersion: true, settings: { key: 'value' } };
    await addPoolAndWait(server.batch, poolId, {
      targetDedicatedNodes: 1,
      virtualMachineConfiguration: { ...poolSpec(poolId).virtualMachineConfiguration!, extensions: [{ ...extension, protectedSettings: { secret: 'hidden-value' } }] },
    });
    const [node] = await server.batch.computeNode.list(poolId);
    const nodeId = node?.id as string;

    const got = await server.batch.computeNodeExtension.get(poolId, nodeId, 'MONITOR');
    assert.deepEqual(got.vmExtension, extension);
    assert.equal(got.provisioningState, 'NotInstalled');
    assert.equal(got.instanceView?.name, 'monitor');
    assert.deepEqual(
      got.instanceView?.statuses?.map(({ code, level, displayStatus }) => ({ code, level, displayStatus })),
      [{ code: 'ProvisioningState/notinstalled', level: 'Warning', displayStatus: 'Not installed' }],
    );
    assert.match(got.instanceView?.statuses?.[0]?.message ?? '', /^not installed: local node/);
    assert.deepEqual([...(await server.batch.computeNodeExtension.list(poolId, nodeId))].map((entry) => entry.vmExtension?.name), ['monitor']);
    await assert.rejects(server.batch.computeNodeExtension.get(poolId, nodeId, 'other'), batchError('ResourceNotFound', 404));

    for (const path of [`/pools/${poolId}`, `/pools/${poolId}/nodes/${nodeId}/extensions`, `/pools/${poolId}/nodes/${nodeId}/extensions/monitor`]) {
      const raw = await signedRequest(server, 'GET', path);
      assert.equal(raw.status, 200);
      assert.ok(!raw.text.includes('hidden-value') && !raw.text.includes('protectedSettings'), `${path} holds no protectedSettings`);
    }
  });
});

describe('node service logs and remote desktop', () => {
  test('uploadBatchServiceLogs writes the node\'s logs into the given container', async () => {
    const poolId = uniqueId('Logs');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, startTask: { commandLine: '/bin/echo started up' } });
    const [node] = await server.batch.computeNode.list(poolId);
    const container = server.blob.getContainerClient(uniqueId('logs').toLowerCase());
    await container.create();
    const sas = container.generateSasUrl({ permissions: ContainerSASPermissions.parse('rcwl'), expiresOn: new Date(Date.now() + 3_600_000) });
    const result = await server.batch.computeNode.uploadBatchServiceLogs(poolId, node?.id as string, { containerUrl: await sas, startTime: new Date(Date.now() - 60_000) });
    assert.ok((result.numberOfFilesUploaded ?? 0) >= 1);
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: result.virtualDirectoryName })) names.push(blob.name);
    assert.equal(names.length, result.numberOfFilesUploaded);
    assert.ok(names.some((name) => name.endsWith('lapis-node.json')));
    await assert.rejects(
      server.batch.computeNode.uploadBatchServiceLogs(poolId, node?.id as string, { containerUrl: `${server.lapis.storageAccountUrl}/missing-container`, startTime: new Date() }),
      batchError('InvalidPropertyValue', 400),
    );
  });

  test('remote desktop files exist only for cloud service pools', async () => {
    const poolId = uniqueId('Rdp');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
    const [node] = await server.batch.computeNode.list(poolId);
    const response = await signedRequest(server, 'GET', `/pools/${poolId}/nodes/${node?.id}/rdp`);
    assert.equal(response.status, 409);
    assert.equal(response.body.code, 'OperationInvalidForCurrentState');
  });
});
