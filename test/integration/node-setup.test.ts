// What a node installs for its runs, through @azure/batch with real
// processes: the pool's and the task's application packages (with their
// AZ_BATCH_APP_PACKAGE_* variables) and the pool's certificates in the task's
// certs directory; a task naming a package that does not exist fails before
// it starts.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addApplicationPackage } from '../../src/server/application-packages.js';
import { addPoolAndWait, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { makeTestCertificate } from '../../src/testkit/test-certificates.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
let workDir: string;

before(async () => {
  server = await startTestServer();
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-setup-'));
  for (const [id, version, text, isDefault] of [
    ['tool', '1.0', 'tool one', true],
    ['tool', '2.0', 'tool two', false],
    ['extra', '3.1', 'extra three', true],
  ] as const) {
    const source = path.join(workDir, `${id}-${version}`);
    fs.mkdirSync(source);
    fs.writeFileSync(path.join(source, 'run.sh'), `#!/bin/sh\necho ${text}\n`, { mode: 0o755 });
    await addApplicationPackage(server.dataDir, server.account.name, { applicationId: id, version, source, makeDefault: isDefault });
  }
});

after(async () => {
  await server?.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

async function stdout(jobId: string, taskId: string): Promise<string> {
  return readStream((await server.batch.file.getFromTask(jobId, taskId, 'stdout.txt')).readableStreamBody);
}

test('pool and task application packages are installed with their variables', async () => {
  const poolId = uniqueId('Apps');
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, applicationPackageReferences: [{ applicationId: 'tool' }] });
  const jobId = uniqueId('Job');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, {
    id: 'uses',
    commandLine: '/bin/bash -c "$AZ_BATCH_APP_PACKAGE_tool/run.sh; $AZ_BATCH_APP_PACKAGE_tool_1_0/run.sh; $AZ_BATCH_APP_PACKAGE_extra_3_1/run.sh; $AZ_BATCH_APP_PACKAGE_tool_2_0/run.sh"',
    applicationPackageReferences: [{ applicationId: 'extra', version: '3.1' }, { applicationId: 'tool', version: '2.0' }],
  });
  const task = await waitForTaskState(server.batch, jobId, 'uses', 'completed');
  assert.equal(task.executionInfo?.exitCode, 0, await stdout(jobId, 'uses'));
  assert.equal(await stdout(jobId, 'uses'), 'tool one\ntool one\nextra three\ntool two\n');
  const nodeId = task.nodeInfo?.nodeId as string;
  const listed = await server.batch.file.listFromComputeNode(poolId, nodeId, { recursive: true, fileListFromComputeNodeOptions: { filter: "startswith(name,'applications/')" } });
  const installed = listed.filter((file) => file.isDirectory && file.name?.split('/').length === 2).map((file) => file.name);
  assert.equal(installed.length, 3, installed.join(','));
});

test('a task naming a package that does not exist fails before it starts', async () => {
  const poolId = uniqueId('NoApp');
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
  const jobId = uniqueId('Job');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, { id: 'missing', commandLine: '/bin/true', applicationPackageReferences: [{ applicationId: 'nothing', version: '1' }] });
  const task = await waitForTaskState(server.batch, jobId, 'missing', 'completed');
  assert.equal(task.executionInfo?.result, 'failure');
  assert.equal(task.executionInfo?.failureInfo?.code, 'ApplicationPackageError');
  assert.equal(task.executionInfo?.exitCode, undefined);
});

test('the pool\'s certificates are in the task\'s certs directory, readable by the task', async () => {
  const { thumbprint, cer } = makeTestCertificate(workDir, 'lapis-node-setup');
  await server.batch.certificate.add({ thumbprint, thumbprintAlgorithm: 'sha1', certificateFormat: 'cer', data: cer });
  const poolId = uniqueId('Certs');
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, certificateReferences: [{ thumbprint, thumbprintAlgorithm: 'sha1' }] });
  const jobId = uniqueId('Job');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.add(jobId, { id: 'certs', commandLine: '/bin/bash -c "ls $AZ_BATCH_CERTIFICATES_DIR; openssl x509 -inform der -in $AZ_BATCH_CERTIFICATES_DIR/*.cer -noout -subject"' });
  const task = await waitForTaskState(server.batch, jobId, 'certs', 'completed');
  const output = await stdout(jobId, 'certs');
  assert.equal(task.executionInfo?.exitCode, 0, output);
  assert.match(output, new RegExp(`sha1-${thumbprint.toLowerCase()}\\.cer`));
  assert.match(output, /CN\s*=\s*lapis-node-setup/);
});
