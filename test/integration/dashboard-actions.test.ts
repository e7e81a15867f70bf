// The dashboard's actions a user takes while debugging, driven in a real
// headless Chromium (as dashboard.test.ts, which covers signing in, the views
// and terminating a task): terminate a job, disable then enable one, reboot
// a node and remove one. Each asserts what the page shows and the state
// through @azure/batch. And the overview's jobs and tasks by state count
// every job of the account, not only the latest, and nothing of another.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { addPoolAndWait, poolSpec, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';
import { chromiumMissing, launchChromium, screenshot, signedInPage } from '../fixtures/dashboard-browser.js';

const OTHER = { name: 'othertenant', key: Buffer.from('the other tenant of the dashboard test, a key 64 bytes in length!').toString('base64') };
/** More than the overview once read (its 25 latest jobs). */
const QUEUED_JOBS = 30;

let server: TestServer;
let browser: Browser;
const poolId = uniqueId('ActionPool');
const queuePoolId = uniqueId('QueuePool');

/** Clicks an action's button and its confirmation, as a user does. */
async function act(page: Page, label: string): Promise<void> {
  await page.getByRole('button', { name: label, exact: true }).click();
  await page.getByRole('button', { name: `Confirm: ${label}` }).click();
}

describe('dashboard actions in the browser', { skip: chromiumMissing }, () => {
  before(async () => {
    server = await startTestServer({ config: { accounts: [{ name: 'lapis', key: Buffer.from('the dashboard test account key, which is also 64 bytes in length!').toString('base64') }, OTHER] } });
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 2 });
    // A pool without nodes: its jobs' tasks wait active.
    await server.batch.pool.add(poolSpec(queuePoolId, { targetDedicatedNodes: 0 }));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the overview counts the tasks and jobs of all the account's jobs, and none of another account", async () => {
    for (let index = 0; index < QUEUED_JOBS; index += 1) {
      const jobId = `queued-${String(index).padStart(2, '0')}`;
      await server.batch.job.add({ id: jobId, poolInfo: { poolId: queuePoolId } });
      await server.batch.task.addCollection(jobId, [{ id: 'a', commandLine: '/bin/true' }, { id: 'b', commandLine: '/bin/true' }]);
    }
    const doneJob = uniqueId('DoneJob');
    await server.batch.job.add({ id: doneJob, poolInfo: { poolId } });
    await server.batch.task.addCollection(doneJob, [{ id: 'ok', commandLine: '/bin/true' }, { id: 'fails', commandLine: "/bin/sh -c 'exit 2'" }]);
    await waitForTaskState(server.batch, doneJob, 'ok', 'completed');
    await waitForTaskState(server.batch, doneJob, 'fails', 'completed');
    await server.batch.job.terminate(doneJob);
    const other = server.batchClientFor(OTHER.name, OTHER.key);
    await other.pool.add(poolSpec('otherpool', { targetDedicatedNodes: 0 }));
    await other.job.add({ id: 'otherjob', poolInfo: { poolId: 'otherpool' } });
    await other.task.addCollection('otherjob', Array.from({ length: 7 }, (_, i) => ({ id: `t${i}`, commandLine: '/bin/true' })));
    await waitFor(async () => ((await server.batch.job.get(doneJob)).state === 'completed' ? true : undefined), { what: 'the finished job to complete' });

    // What Job_GetTaskCounts and Job_List say, summed over every job of the account.
    const jobs = await server.batch.job.list();
    const expected = { active: 0, running: 0, succeeded: 0, failed: 0 };
    const jobStates: Record<string, number> = {};
    for (const job of jobs) {
      const { taskCounts } = await server.batch.job.getTaskCounts(job.id ?? '');
      for (const state of ['active', 'running', 'succeeded', 'failed'] as const) expected[state] += taskCounts[state];
      jobStates[job.state ?? ''] = (jobStates[job.state ?? ''] ?? 0) + 1;
    }
    assert.deepEqual(expected, { active: 2 * QUEUED_JOBS, running: 0, succeeded: 1, failed: 1 });
    assert.deepEqual(jobStates, { active: QUEUED_JOBS, completed: 1 });

    const page = await signedInPage(browser, server);
    const tasks = page.locator('.counts[aria-label="tasks by state"]');
    await tasks.locator('[data-state=active] dd').filter({ hasText: String(expected.active) }).waitFor();
    assert.equal(await tasks.locator('[data-state=succeeded] dd').innerText(), '1');
    assert.equal(await tasks.locator('[data-state=failed] dd').innerText(), '1');
    const jobCounts = page.locator('.counts[aria-label="jobs by state"]');
    assert.equal(await jobCounts.locator('[data-state=active] dd').innerText(), String(QUEUED_JOBS));
    assert.equal(await jobCounts.locator('[data-state=completed] dd').innerText(), '1');
    await screenshot(page, 'overview-all-jobs');
    await page.close();

    // The summary behind it answers only a session, and only of its own account.
    const summaryUrl = `${server.lapis.batchUrl}/ui/api/summary`;
    assert.equal((await fetch(summaryUrl)).status, 401);
    const signedIn = await fetch(`${server.lapis.batchUrl}/ui/api/sign-in`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ account: OTHER.name, key: OTHER.key }) });
    const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const otherSummary = (await (await fetch(summaryUrl, { headers: { cookie } })).json()) as { jobs: Record<string, number>; tasks: Record<string, number> };
    assert.deepEqual(otherSummary, { jobs: { active: 1 }, tasks: { active: 7, running: 0, completed: 0, succeeded: 0, failed: 0 } });
  });

  test('terminate a job, and disable then enable another, from the job page', async () => {
    const page = await signedInPage(browser, server);
    const runningJob = uniqueId('TerminateMe');
    await server.batch.job.add({ id: runningJob, poolInfo: { poolId } });
    await server.batch.task.add(runningJob, { id: 'sleeper', commandLine: '/bin/sleep 120' });
    await waitForTaskState(server.batch, runningJob, 'sleeper', 'running');
    await page.goto(`${server.lapis.batchUrl}/ui#/jobs/${runningJob}`);
    await page.locator('[data-view=job] .fields .state-active').waitFor();
    await act(page, 'Terminate job');
    await page.locator('[data-view=job] .fields .state-completed').waitFor({ timeout: 30_000 });
    const terminated = await server.batch.job.get(runningJob);
    assert.equal(terminated.state, 'completed');
    assert.equal(terminated.executionInfo?.terminateReason, 'UserTerminate');
    const sleeper = await server.batch.task.get(runningJob, 'sleeper');
    assert.equal(sleeper.state, 'completed');
    assert.equal(sleeper.executionInfo?.failureInfo?.code, 'TaskEnded');
    await screenshot(page, 'job-terminated');

    const queued = 'queued-00';
    await page.goto(`${server.lapis.batchUrl}/ui#/jobs/${queued}`);
    await page.locator('[data-view=job] .fields .state-active').waitFor();
    await act(page, 'Disable job');
    await page.locator('[data-view=job] .fields .state-disabled').waitFor({ timeout: 30_000 });
    assert.equal((await server.batch.job.get(queued)).state, 'disabled');
    await page.getByRole('button', { name: 'Disable job', exact: true }).waitFor({ state: 'detached' });
    await screenshot(page, 'job-disabled');
    await act(page, 'Enable job');
    await page.locator('[data-view=job] .fields .state-active').waitFor({ timeout: 30_000 });
    assert.equal((await server.batch.job.get(queued)).state, 'active');
    assert.equal((await server.batch.task.get(queued, 'a')).state, 'active', 'its tasks wait again');
    await page.close();
  });

  test('reboot a node and remove another from the node page', async () => {
    const page = await signedInPage(browser, server);
    const [first, second] = await server.batch.computeNode.list(poolId);
    assert.ok(first?.id && second?.id, 'the pool has two nodes');
    const bootedAt = first.lastBootTime?.toISOString();
    await page.goto(`${server.lapis.batchUrl}/ui#/pools/${poolId}/nodes/${first.id}`);
    await page.locator('#last-boot').waitFor();
    const shownBefore = await page.locator('#last-boot').getAttribute('datetime');
    assert.equal(shownBefore && new Date(shownBefore).toISOString(), bootedAt);
    await act(page, 'Reboot node');
    const rebooted = await waitFor(
      async () => {
        const node = await server.batch.computeNode.get(poolId, first.id as string);
        return node.state === 'idle' && node.lastBootTime?.toISOString() !== bootedAt ? node : undefined;
      },
      { what: 'the node to be back from its reboot', timeoutMs: 60_000 },
    );
    // The page follows without a reload: the node is idle again, booted anew.
    await waitFor(async () => {
      const shown = await page.locator('#last-boot').getAttribute('datetime');
      return shown && new Date(shown).toISOString() === rebooted.lastBootTime?.toISOString() ? true : undefined;
    }, { what: 'the page to show the new boot time' });
    await page.locator('[data-view=node] .fields .state-idle').waitFor();
    await screenshot(page, 'node-rebooted');

    await page.goto(`${server.lapis.batchUrl}/ui#/pools/${poolId}/nodes/${second.id}`);
    await page.locator('[data-view=node] .fields .state-idle').waitFor();
    await act(page, 'Remove node');
    await waitFor(async () => ((await server.batch.computeNode.list(poolId)).some((node) => node.id === second.id) ? undefined : true), {
      what: 'the removed node to leave the pool',
      timeoutMs: 60_000,
    });
    const pool = await server.batch.pool.get(poolId);
    assert.equal(pool.targetDedicatedNodes, 1);
    await page.goto(`${server.lapis.batchUrl}/ui#/pools/${poolId}`);
    await page.locator(`#heatmap .cell[data-node="${first.id}"]`).waitFor();
    await waitFor(async () => ((await page.locator('#heatmap .cell').count()) === 1 ? true : undefined), { what: 'the heatmap to show one node' });
    assert.equal(await page.locator(`#heatmap .cell[data-node="${second.id}"]`).count(), 0);
    await screenshot(page, 'node-removed');
    await page.close();
  });
});
