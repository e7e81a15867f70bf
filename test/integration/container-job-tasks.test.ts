// A job's own tasks in containers, through @azure/batch: a start task, a job
// manager, a job preparation and a job release task, each with
// containerSettings on a container pool, each run in the image (PID 1 is its
// command line's shell, the host's Node.js is not there) with the node's
// directories mounted, the release when the manager's completion ends the
// job. container-tasks.test.ts covers ordinary tasks; this file the rest.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addPoolAndWait, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { TEST_NODE_IMAGE, testNodeImageMissing } from '../../src/testkit/test-node-image.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

/** Writes `<pid 1's name> <host|image>` to `<what>.txt` in the node's shared directory (a file each: they run as different users). */
const evidence = (what: string) =>
  `/bin/bash -c 'echo $(cat /proc/1/comm) $(test -e ${process.execPath} && echo host || echo image) > $AZ_BATCH_NODE_SHARED_DIR/${what}.txt'`;
const containerSettings = { imageName: TEST_NODE_IMAGE };

let server: TestServer;
before(async () => {
  if (testNodeImageMissing()) return;
  server = await startTestServer();
});
after(() => server?.stop());

test('start task, job manager, preparation and release tasks run in the image', { skip: testNodeImageMissing(), timeout: 180_000 }, async () => {
  const poolId = uniqueId('ContainerJobTasks');
  await addPoolAndWait(server.batch, poolId, {
    targetDedicatedNodes: 1,
    virtualMachineConfiguration: {
      imageReference: { publisher: 'microsoft-azure-batch', offer: 'ubuntu-server-container', sku: '20-04-lts' },
      nodeAgentSKUId: 'batch.node.ubuntu 20.04',
      containerConfiguration: { containerImageNames: [TEST_NODE_IMAGE] },
    },
    startTask: { commandLine: evidence('start'), containerSettings, userIdentity: { autoUser: { scope: 'pool', elevationLevel: 'admin' } }, waitForSuccess: true },
  });
  const jobId = uniqueId('Job');
  await server.batch.job.add({
    id: jobId,
    poolInfo: { poolId },
    jobPreparationTask: { commandLine: evidence('preparation'), containerSettings },
    jobReleaseTask: { commandLine: evidence('release'), containerSettings },
    // The manager's completion ends the job (killJobOnCompletion), which runs the release.
    jobManagerTask: { id: 'manager', commandLine: evidence('manager'), containerSettings },
  });
  const manager = await waitForTaskState(server.batch, jobId, 'manager', 'completed', 120_000);
  assert.equal(manager.executionInfo?.exitCode, 0, JSON.stringify(manager.executionInfo));
  const [status] = await waitFor(
    async () => {
      const statuses = await server.batch.job.listPreparationAndReleaseTaskStatus(jobId);
      return statuses[0]?.jobReleaseTaskExecutionInfo?.state === 'completed' ? statuses : undefined;
    },
    { timeoutMs: 90_000, what: 'the release task to complete' },
  );
  assert.equal(status?.jobPreparationTaskExecutionInfo?.exitCode, 0);
  assert.equal(status?.jobReleaseTaskExecutionInfo?.exitCode, 0, JSON.stringify(status?.jobReleaseTaskExecutionInfo));
  for (const what of ['start', 'preparation', 'manager', 'release']) {
    const written = await readStream((await server.batch.file.getFromComputeNode(poolId, status?.nodeId as string, `shared/${what}.txt`)).readableStreamBody);
    assert.equal(written, 'bash image\n', what);
  }
});
