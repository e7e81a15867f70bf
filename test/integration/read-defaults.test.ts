// Reads answer with the defaults Batch fills in (src/api/batch/read-defaults/),
// in every accepted api-version: a pool's and node's start task (identity,
// retries, waitForSuccess), an image's version, a job schedule's job
// specification (priority, parallelism, preemption, dependencies, completion
// and failure actions, constraints, auto pool), and a job's manager,
// preparation and release tasks. Through @azure/batch at the primary version,
// and raw for the others.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SUPPORTED_API_VERSIONS } from '../../src/api/batch/versions.js';
import { addPoolAndWait, poolSpec, uniqueId } from '../../src/testkit/builders.js';
import { signedRequest } from '../../src/testkit/signed-request.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

const UNLIMITED = 'P10675199DT2H48M5.4775807S';
const POOL_AUTO_USER = { autoUser: { scope: 'pool', elevationLevel: 'nonadmin' } };
let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

/** The same read at every accepted api-version. */
async function atEveryVersion(path: string): Promise<Record<string, unknown>[]> {
  const answers = [];
  for (const version of SUPPORTED_API_VERSIONS) {
    const answer = await signedRequest(server, 'GET', path, { query: `api-version=${version}` });
    assert.equal(answer.status, 200, `${path} at ${version}`);
    answers.push(answer.body);
  }
  return answers;
}

describe('defaults on reads', () => {
  test("a pool's and its node's start task come back with identity, retries and waitForSuccess; an image without a version is its latest", async () => {
    const poolId = uniqueId('Defaults');
    const image = { publisher: 'canonical', offer: '0001-com-ubuntu-server-focal', sku: '20_04-lts' };
    await addPoolAndWait(server.batch, poolId, {
      startTask: { commandLine: '/bin/echo hello' },
      virtualMachineConfiguration: { imageReference: image, nodeAgentSKUId: 'batch.node.ubuntu 20.04' },
    });
    const expected = { commandLine: '/bin/echo hello', userIdentity: POOL_AUTO_USER, maxTaskRetryCount: 0, waitForSuccess: true };
    const pool = await server.batch.pool.get(poolId);
    assert.deepEqual(pool.startTask, { ...expected, userIdentity: { autoUser: { scope: 'pool', elevationLevel: 'nonadmin' } } });
    assert.equal(pool.virtualMachineConfiguration?.imageReference.version, 'latest');
    const [node] = await server.batch.computeNode.list(poolId);
    const nodeId = node?.id as string;
    for (const body of await atEveryVersion(`/pools/${poolId}`)) assert.deepEqual(body.startTask, expected);
    for (const body of await atEveryVersion(`/pools/${poolId}/nodes/${nodeId}`)) assert.deepEqual(body.startTask, expected);
    await server.batch.pool.deleteMethod(poolId);
  });

  test("a job schedule's job specification comes back with Batch's defaults, its auto pool's too", async () => {
    const id = uniqueId('DefaultsSchedule');
    await server.batch.jobSchedule.add({
      id,
      schedule: { doNotRunUntil: new Date('2099-01-01T00:00:00Z') },
      jobSpecification: { poolInfo: { autoPoolSpecification: { poolLifetimeOption: 'job', pool: { vmSize: 'small', virtualMachineConfiguration: poolSpec(id).virtualMachineConfiguration, targetDedicatedNodes: 0, startTask: { commandLine: '/bin/true' } } } } },
    });
    const schedule = await server.batch.jobSchedule.get(id);
    const specification = schedule.jobSpecification!;
    assert.equal(specification.priority, 0);
    assert.equal(specification.maxParallelTasks, -1);
    assert.equal(specification.allowTaskPreemption, false);
    assert.equal(specification.usesTaskDependencies, false);
    assert.equal(specification.onAllTasksComplete, 'noaction');
    assert.equal(specification.onTaskFailure, 'noaction');
    assert.deepEqual(specification.constraints, { maxWallClockTime: 'P10675199DT2H48M5.4775807S', maxTaskRetryCount: 0 });
    const autoPool = specification.poolInfo.autoPoolSpecification;
    assert.equal(autoPool?.keepAlive, false);
    assert.equal(autoPool?.pool?.taskSlotsPerNode, 1);
    assert.deepEqual(autoPool?.pool?.taskSchedulingPolicy, { nodeFillType: 'spread' });
    assert.equal(autoPool?.pool?.resizeTimeout, 'PT15M');
    assert.equal(autoPool?.pool?.startTask?.waitForSuccess, true);
    // maxParallelTasks and allowTaskPreemption are newer than some accepted versions, which answer without them.
    const defaults = { priority: 0, maxParallelTasks: -1, allowTaskPreemption: false, usesTaskDependencies: false, onAllTasksComplete: 'noaction', onTaskFailure: 'noaction', constraints: { maxWallClockTime: UNLIMITED, maxTaskRetryCount: 0 } };
    const newer = new Set(['maxParallelTasks', 'allowTaskPreemption']);
    for (const body of await atEveryVersion(`/jobschedules/${id}`)) {
      const raw = body.jobSpecification as Record<string, unknown>;
      for (const [name, value] of Object.entries(defaults)) if (name in raw || !newer.has(name)) assert.deepEqual(raw[name], value, name);
    }
    const listed = await server.batch.jobSchedule.list({ jobScheduleListOptions: { filter: `id eq '${id}'` } });
    assert.equal(listed[0]?.jobSpecification?.maxParallelTasks, -1);
    await server.batch.jobSchedule.deleteMethod(id);
  });

  test("a job's manager, preparation and release tasks come back with their defaults", async () => {
    const poolId = uniqueId('DefaultsEmpty');
    await server.batch.pool.add(poolSpec(poolId, { targetDedicatedNodes: 0 }));
    const jobId = uniqueId('DefaultsJob');
    await server.batch.job.add({
      id: jobId,
      poolInfo: { poolId },
      constraints: { maxTaskRetryCount: 2 },
      jobManagerTask: { id: 'manager', commandLine: '/bin/true' },
      jobPreparationTask: { commandLine: '/bin/true' },
      jobReleaseTask: { commandLine: '/bin/true' },
    });
    const job = await waitFor(async () => server.batch.job.get(jobId));
    assert.deepEqual(job.jobManagerTask, {
      id: 'manager',
      commandLine: '/bin/true',
      constraints: { maxWallClockTime: UNLIMITED, retentionTime: 'P7D', maxTaskRetryCount: 2 },
      requiredSlots: 1,
      killJobOnCompletion: true,
      userIdentity: POOL_AUTO_USER,
      runExclusive: true,
      allowLowPriorityNode: true,
    });
    assert.deepEqual(job.jobPreparationTask, {
      id: 'jobpreparation',
      commandLine: '/bin/true',
      constraints: { maxWallClockTime: UNLIMITED, retentionTime: 'P7D', maxTaskRetryCount: 2 },
      waitForSuccess: true,
      userIdentity: POOL_AUTO_USER,
      rerunOnNodeRebootAfterSuccess: true,
    });
    assert.deepEqual(job.jobReleaseTask, { id: 'jobrelease', commandLine: '/bin/true', maxWallClockTime: 'PT15M', retentionTime: 'P7D', userIdentity: POOL_AUTO_USER });
    for (const body of await atEveryVersion(`/jobs/${jobId}`)) assert.equal((body.jobReleaseTask as { maxWallClockTime?: string }).maxWallClockTime, 'PT15M');
    await server.batch.job.deleteMethod(jobId);
    await server.batch.pool.deleteMethod(poolId);
  });
});
