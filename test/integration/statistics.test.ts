// Usage metrics and lifetime statistics through @azure/batch, from real
// nodes and tasks: node hours per pool and hour, the account's task totals,
// the resources the nodes measured, and the operations' removal in 2023-05-01.17.0.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseDuration } from '../../src/core/time.js';
import { addPoolAndWait, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { signedRequest } from '../../src/testkit/signed-request.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
const poolId = uniqueId('StatsPool');

const jobId = uniqueId('Job');

before(async () => {
  server = await startTestServer();
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 2 });
  await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
  await server.batch.task.addCollection(jobId, [
    { id: 'ok-1', commandLine: '/bin/sleep 0.2' },
    { id: 'ok-2', commandLine: '/bin/true' },
    { id: 'bad', commandLine: '/bin/sh -c "exit 2"', constraints: { maxTaskRetryCount: 1 } },
  ]);
  for (const id of ['ok-1', 'ok-2', 'bad']) await waitForTaskState(server.batch, jobId, id, 'completed');
});

after(async () => {
  await server?.stop();
});

test('lifetime job statistics count the account\'s completed tasks, retries and time', async () => {
  const stats = await server.batch.job.getAllLifetimeStatistics();
  assert.equal(stats.numSucceededTasks, 2);
  assert.equal(stats.numFailedTasks, 1);
  assert.equal(stats.numTaskRetries, 1);
  assert.ok((parseDuration(String(stats.wallClockTime)) ?? 0) >= 200, `wallClockTime ${String(stats.wallClockTime)}`);
  assert.ok(stats.startTime instanceof Date && stats.lastUpdateTime instanceof Date);
});

test('lifetime pool statistics report the dedicated core time of the account\'s nodes', async () => {
  const stats = await server.batch.pool.getAllLifetimeStatistics();
  const coreTime = parseDuration(String(stats.usageStats?.dedicatedCoreTime)) ?? 0;
  assert.ok(coreTime > 0, `dedicatedCoreTime ${String(stats.usageStats?.dedicatedCoreTime)}`);
  for (const figure of ['avgCPUPercentage', 'avgMemoryGiB', 'peakMemoryGiB', 'avgDiskGiB', 'peakDiskGiB', 'diskReadGiB', 'diskWriteGiB', 'networkReadGiB', 'networkWriteGiB'] as const) {
    assert.equal(typeof stats.resourceStats?.[figure], 'number', figure);
  }
});

test('lifetime pool statistics report the CPU, memory and disk the nodes measured of a task that burns CPU', async () => {
  const burnJob = uniqueId('Burn');
  await server.batch.job.add({ id: burnJob, poolInfo: { poolId } });
  // Six seconds of a busy loop, ended with success: every node measures each 5 seconds.
  await server.batch.task.add(burnJob, { id: 'burn', commandLine: `/bin/sh -c "timeout 6 /bin/sh -c 'while :; do :; done'; exit 0"` });
  await waitForTaskState(server.batch, burnJob, 'burn', 'completed');
  const stats = await waitFor(async () => {
    const pool = await server.batch.pool.get(poolId, { poolGetOptions: { expand: 'stats' } });
    return (pool.stats?.resourceStats?.avgCPUPercentage ?? 0) > 0 ? pool.stats?.resourceStats : undefined;
  }, { what: 'the pool\'s measured CPU use' });
  assert.ok((stats?.avgCPUPercentage ?? 0) <= 100, `avgCPUPercentage ${stats?.avgCPUPercentage}`);
  assert.ok((stats?.peakDiskGiB ?? 0) > 0, 'the node directory\'s file system is in use');
  const all = await server.batch.pool.getAllLifetimeStatistics();
  assert.ok((all.resourceStats?.avgCPUPercentage ?? 0) > 0, `account avgCPUPercentage ${all.resourceStats?.avgCPUPercentage}`);
});

test('usage metrics give each pool\'s node hours per hour', async () => {
  const now = Date.now();
  const metrics = await server.batch.pool.listUsageMetrics({
    poolListUsageMetricsOptions: { startTime: new Date(now - 3_600_000), endTime: new Date(now + 3_600_000) },
  });
  const mine = metrics.filter((entry) => entry.poolId === poolId);
  assert.ok(mine.length >= 1, JSON.stringify(metrics));
  assert.ok(mine.every((entry) => entry.totalCoreHours > 0 && entry.vmSize === 'standard_ds1_v2'));
  assert.ok(mine.every((entry) => (entry.endTime as Date).getTime() - (entry.startTime as Date).getTime() === 3_600_000));
  const filtered = await server.batch.pool.listUsageMetrics({
    poolListUsageMetricsOptions: { startTime: new Date(now - 3_600_000), endTime: new Date(now + 3_600_000), filter: `poolId eq '${poolId}'` },
  });
  assert.deepEqual([...new Set(filtered.map((entry) => entry.poolId))], [poolId]);
});

test('the lifetime statistics are gone from 2023-05-01.17.0', async () => {
  for (const path of ['/lifetimejobstats', '/lifetimepoolstats']) {
    const old = await signedRequest(server, 'GET', path, { query: 'api-version=2022-10-01.16.0' });
    assert.equal(old.status, 200);
    const later = await signedRequest(server, 'GET', path, { query: 'api-version=2023-05-01.17.0' });
    assert.equal(later.status, 400);
    assert.equal(later.body.code, 'InvalidUri');
  }
});

test('$expand=stats adds a job\'s, a pool\'s and a schedule\'s statistics; other expansions are refused', async () => {
  const job = await server.batch.job.get(jobId, { jobGetOptions: { expand: 'stats' } });
  assert.equal(job.stats?.numSucceededTasks, 2);
  assert.equal(job.stats?.numFailedTasks, 1);
  assert.equal(job.stats?.numTaskRetries, 1);
  assert.equal(job.stats?.url, `${server.lapis.batchUrl}/jobs/${jobId}/stats`);
  assert.equal((await server.batch.job.get(jobId)).stats, undefined, 'only when asked');
  const [listed] = (await server.batch.job.list({ jobListOptions: { expand: 'stats' } })).filter((entry) => entry.id === jobId);
  assert.equal(listed?.stats?.numSucceededTasks, 2);
  const pool = await server.batch.pool.get(poolId, { poolGetOptions: { expand: 'stats' } });
  assert.ok((parseDuration(String(pool.stats?.usageStats?.dedicatedCoreTime)) ?? 0) > 0);
  await server.batch.jobSchedule.add({ id: 'stats-schedule', schedule: { doNotRunUntil: new Date(Date.now() + 3_600_000) }, jobSpecification: { poolInfo: { poolId } } });
  const schedule = await server.batch.jobSchedule.get('stats-schedule', { jobScheduleGetOptions: { expand: 'stats' } });
  assert.equal(schedule.stats?.numSucceededTasks, 0);
  const bad = await signedRequest(server, 'GET', `/jobs/${jobId}`, { query: 'api-version=2022-10-01.16.0&$expand=tasks' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'InvalidQueryParameterValue');
});
