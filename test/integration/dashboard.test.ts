// The web dashboard (docs/dashboard.md) as a user sees it: a real headless
// Chromium (Debian's `chromium`, installed by scripts/install-test-tools.sh)
// driven by playwright-core against a real Lapis with two accounts. Signing
// in (a wrong key refused), each view showing the account's data and nothing
// of the other account, a task's output appearing while it runs, terminating
// a task from its page, and a job of 100,000 tasks paged by the server.
// Screenshots of each view go to test-artifacts/dashboard/ (printed below).
//
// The session's own rules are checked over HTTP beside them: account A's
// cookie reads nothing of account B, a change needs the CSRF header, a
// sign-in link works once, and sign-out ends the session.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { addPoolAndWait, poolSpec, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';
import { chromiumMissing, launchChromium, newPage, screenshot, signedInPage } from '../fixtures/dashboard-browser.js';

const OTHER = { name: 'othertenant', key: Buffer.from('the other tenant of the dashboard test, a key 64 bytes in length!').toString('base64') };
const API = 'api-version=2022-10-01.16.0';
const BIG_JOB_TASKS = 100_000;

let server: TestServer;
let browser: Browser;
let ledger: string;
let poolId: string;
let jobId: string;
let bigJobId: string;
const otherPoolId = uniqueId('OtherTenantPool');
const otherJobId = uniqueId('OtherTenantJob');

const released = (name: string) => `while [ ! -e ${ledger}/${name} ]; do sleep 0.1; done`;

interface Session {
  cookie: string;
  csrfToken: string;
}

async function signIn(account: string, key: string): Promise<Response> {
  return fetch(`${server.lapis.batchUrl}/ui/api/sign-in`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ account, key }) });
}

async function sessionOf(account: string, key: string): Promise<Session> {
  const response = await signIn(account, key);
  assert.equal(response.status, 200);
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
  return { cookie, csrfToken: ((await response.json()) as { csrfToken: string }).csrfToken };
}

function get(session: Session, path: string): Promise<Response> {
  return fetch(`${server.lapis.batchUrl}${path}`, { headers: { cookie: session.cookie } });
}

/** Adds the big job's tasks as a client would: Task_AddCollection, 100 a request, a few requests at a time. */
async function addManyTasks(job: string, total: number): Promise<void> {
  const collections = Array.from({ length: total / 100 }, (_, index) => index);
  const workers = Array.from({ length: 4 }, async () => {
    for (let next = collections.shift(); next !== undefined; next = collections.shift()) {
      const tasks = Array.from({ length: 100 }, (_, i) => ({ id: `task-${String(next * 100 + i).padStart(6, '0')}`, commandLine: '/bin/true' }));
      const result = await server.batch.task.addCollection(job, tasks);
      assert.ok(result.value?.every((entry) => entry.status === 'success'));
    }
  });
  await Promise.all(workers);
}

async function assertNothingOfTheOtherAccount(page: Page): Promise<void> {
  const text = await page.locator('body').innerText();
  assert.ok(!text.includes(otherPoolId) && !text.includes(otherJobId), `the page shows another account's resources:\n${text}`);
}

describe('the web dashboard', { skip: chromiumMissing }, () => {
  before(async () => {
    server = await startTestServer({ config: { accounts: [{ name: 'lapis', key: Buffer.from('the dashboard test account key, which is also 64 bytes in length!').toString('base64') }, OTHER], faults: true } });
    ledger = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-dashboard-'));
    fs.chmodSync(ledger, 0o777);
    poolId = uniqueId('DashPool');
    jobId = uniqueId('DashJob');
    bigJobId = uniqueId('BigJob');
    const other = server.batchClientFor(OTHER.name, OTHER.key);
    await other.pool.add(poolSpec(otherPoolId, { targetDedicatedNodes: 0 }));
    await other.job.add({ id: otherJobId, poolInfo: { poolId: otherPoolId } });
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, taskSlotsPerNode: 4, startTask: { commandLine: '/bin/sh -c "echo node ready"', waitForSuccess: true } });
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    // The big job's pool has no nodes: its tasks stay active, as a queue of 100,000 waits.
    const idlePool = uniqueId('EmptyPool');
    await server.batch.pool.add(poolSpec(idlePool, { targetDedicatedNodes: 0 }));
    await server.batch.job.add({ id: bigJobId, poolInfo: { poolId: idlePool } });
    browser = await launchChromium();
  });

  after(async () => {
    fs.writeFileSync(path.join(ledger, 'go'), '');
    await browser?.close();
    await server?.stop();
    fs.rmSync(ledger, { recursive: true, force: true });
  });

  describe('sessions over HTTP', () => {
    test('a wrong key is refused; the right one gives an HttpOnly, SameSite=Strict cookie for /ui', async () => {
      assert.equal((await signIn(server.account.name, OTHER.key)).status, 401);
      assert.equal((await signIn('nosuchaccount', server.account.key)).status, 401);
      const response = await signIn(server.account.name.toUpperCase(), server.account.key);
      assert.equal(response.status, 200);
      const cookie = response.headers.get('set-cookie') ?? '';
      for (const part of ['HttpOnly', 'SameSite=Strict', 'Path=/ui']) assert.ok(cookie.includes(part), cookie);
      assert.equal(((await response.json()) as { account: string }).account, server.account.name);
    });

    test("account A's cookie reads nothing of account B, and a SharedKey header does not sign a /ui request", async () => {
      const session = await sessionOf(server.account.name, server.account.key);
      const jobs = (await (await get(session, `/ui/api/batch/jobs?${API}`)).json()) as { value: { id: string }[] };
      assert.ok(jobs.value.some((job) => job.id === jobId));
      assert.ok(!jobs.value.some((job) => job.id === otherJobId));
      const otherJob = await get(session, `/ui/api/batch/jobs/${otherJobId}?${API}`);
      assert.equal(otherJob.status, 404);
      assert.equal(((await otherJob.json()) as { code: string }).code, 'JobNotFound');
      assert.equal((await get(session, `/ui/api/batch/pools/${otherPoolId}?${API}`)).status, 404);
      const unknown = await get(session, `/ui/api/batch/nosuchresource?${API}`);
      assert.equal(unknown.status, 400);
      assert.equal(((await unknown.json()) as { code: string }).code, 'InvalidUri');
      // Without a session, /ui's data answers 401 whatever else the request carries.
      const anonymous = await fetch(`${server.lapis.batchUrl}/ui/api/batch/jobs?${API}`, { headers: { Authorization: `SharedKey ${OTHER.name}:forged` } });
      assert.equal(anonymous.status, 401);
      assert.equal((await fetch(`${server.lapis.batchUrl}/ui/api/events`)).status, 401);
    });

    test('a change needs the session CSRF header; with it, it goes through the Batch service', async () => {
      const session = await sessionOf(server.account.name, server.account.key);
      const url = `${server.lapis.batchUrl}/ui/api/batch/jobs/${bigJobId}/disable?${API}`;
      const body = JSON.stringify({ disableTasks: 'wait' });
      const headers = { cookie: session.cookie, 'Content-Type': 'application/json' };
      assert.equal((await fetch(url, { method: 'POST', headers, body })).status, 403);
      assert.equal((await fetch(url, { method: 'POST', headers: { ...headers, 'x-lapis-csrf': 'not-the-token' }, body })).status, 403);
      assert.equal((await fetch(url, { method: 'POST', headers: { ...headers, 'x-lapis-csrf': session.csrfToken, Origin: 'http://evil.example' }, body })).status, 403);
      assert.equal((await fetch(url, { method: 'POST', headers: { ...headers, 'x-lapis-csrf': session.csrfToken }, body })).status, 202);
      assert.equal((await server.batch.job.get(bigJobId)).state, 'disabled');
      await server.batch.job.enable(bigJobId);
    });

    test('a sign-in link works once; sign-out ends the session', async () => {
      const link = server.lapis.dashboardSignInLink(server.account.name) as string;
      assert.equal(server.lapis.dashboardSignInLink('nosuchaccount'), undefined);
      const first = await fetch(link, { redirect: 'manual' });
      assert.equal(first.status, 200);
      const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] as string;
      assert.match(cookie, /^lapis_session=/);
      const second = await fetch(link, { redirect: 'manual' });
      assert.equal(second.status, 401);
      assert.equal(second.headers.get('set-cookie'), null);
      const session = (await (await fetch(`${server.lapis.batchUrl}/ui/api/session`, { headers: { cookie } })).json()) as { account: string; csrfToken: string };
      assert.equal(session.account, server.account.name);
      const signOut = await fetch(`${server.lapis.batchUrl}/ui/api/sign-out`, { method: 'POST', headers: { cookie, 'x-lapis-csrf': session.csrfToken } });
      assert.equal(signOut.status, 204);
      assert.equal((await fetch(`${server.lapis.batchUrl}/ui/api/batch/jobs?${API}`, { headers: { cookie } })).status, 401);
    });
  });

  describe('in the browser', () => {
    test('sign-in refuses a wrong key and opens the overview of the account only', async () => {
      const page = await newPage(browser);
      await page.goto(`${server.lapis.batchUrl}/ui`);
      await page.fill('input[name=account]', server.account.name);
      await page.fill('input[name=key]', OTHER.key);
      await page.click('#sign-in button[type=submit]');
      await page.getByRole('alert').filter({ hasText: 'not right' }).waitFor();
      await page.fill('input[name=key]', server.account.key);
      await page.click('#sign-in button[type=submit]');
      await page.locator('#overview-pools').getByText(poolId).waitFor();
      assert.equal(await page.locator('#account').innerText(), server.account.name);
      await page.locator('.counts[aria-label="nodes by state"] [data-state=idle] dd').filter({ hasText: '1' }).waitFor();
      await assertNothingOfTheOtherAccount(page);
      await screenshot(page, 'overview');
      await page.click('#sign-out');
      await page.locator('#sign-in').waitFor();
      await page.close();
    });

    test("a task's output appears while it runs, and terminating another task from its page completes it", async () => {
      await server.batch.task.addCollection(jobId, [
        {
          id: 'talker',
          commandLine: `/bin/sh -c 'echo first line; ${released('talk')}; echo second line'`,
          environmentSettings: [
            { name: 'GREETING', value: 'hello from the environment' },
            { name: 'SERVICE_API_TOKEN', value: 'hunter2-never-shown' },
          ],
        },
        { id: 'sleeper', commandLine: `/bin/sh -c '${released('go')}'` },
        { id: 'quick-fail', commandLine: "/bin/sh -c 'exit 3'" },
        { id: 'retrier', commandLine: "/bin/sh -c 'exit 5'", constraints: { maxTaskRetryCount: 1 } },
      ]);
      await waitForTaskState(server.batch, jobId, 'quick-fail', 'completed');
      await waitForTaskState(server.batch, jobId, 'retrier', 'completed');
      const page = await signedInPage(browser, server);
      await page.goto(`${server.lapis.batchUrl}/ui#/jobs/${jobId}/tasks/talker`);
      await page.locator('pre[data-file="stdout.txt"]').filter({ hasText: 'first line' }).waitFor({ timeout: 30_000 });
      assert.equal((await server.batch.task.get(jobId, 'talker')).state, 'running');
      assert.ok(!(await page.locator('pre[data-file="stdout.txt"]').innerText()).includes('second line'));
      const environment = await page.locator('#environment').innerText();
      assert.ok(environment.includes('hello from the environment') && environment.includes('SERVICE_API_TOKEN'), environment);
      assert.ok(!(await page.locator('body').innerText()).includes('hunter2-never-shown'), 'a secret-named variable is masked');
      await screenshot(page, 'task-running');
      fs.writeFileSync(path.join(ledger, 'talk'), '');
      // The same page, not reloaded: the second line streams in and the state follows.
      await page.locator('pre[data-file="stdout.txt"]').filter({ hasText: 'second line' }).waitFor({ timeout: 30_000 });
      await page.locator('.fields .state-completed').waitFor();

      await page.goto(`${server.lapis.batchUrl}/ui#/jobs/${jobId}/tasks/sleeper`);
      await page.locator('.fields .state-running').waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Terminate task' }).click();
      await page.getByRole('button', { name: 'Confirm: Terminate task' }).click();
      await page.locator('.fields .state-completed').waitFor({ timeout: 30_000 });
      const terminated = await server.batch.task.get(jobId, 'sleeper');
      assert.equal(terminated.state, 'completed');
      assert.equal(terminated.executionInfo?.failureInfo?.code, 'TaskEnded');
      await screenshot(page, 'task-terminated');
      await page.close();
    });

    test('the job view shows progress, filters tasks by state and exit code, and draws the runs per node with their retries', async () => {
      const page = await signedInPage(browser, server);
      await page.goto(`${server.lapis.batchUrl}/ui#/jobs/${jobId}`);
      await page.locator('#task-counts').filter({ hasText: '0 running · 1 succeeded · 3 failed' }).waitFor({ timeout: 30_000 });
      await page.locator('#page-info').filter({ hasText: 'Tasks 1–4 of 4' }).waitFor();
      await page.fill('input[name=exitCode]', '3');
      await page.press('input[name=exitCode]', 'Enter');
      await page.locator('#page-info').filter({ hasText: 'Tasks 1–1' }).waitFor();
      assert.deepEqual(await page.locator('#task-table tbody td:first-child').allInnerTexts(), ['quick-fail']);
      await page.fill('input[name=exitCode]', '');
      await page.press('input[name=exitCode]', 'Enter');
      await page.selectOption('select[name=state]', 'succeeded');
      await page.locator('#page-info').filter({ hasText: 'Tasks 1–1 of 1' }).waitFor();
      assert.deepEqual(await page.locator('#task-table tbody td:first-child').allInnerTexts(), ['talker']);
      // Four runs on the node; the retried task's bar counts its retry.
      assert.equal(await page.locator('svg.timeline g.run').count(), 4);
      assert.match(await page.locator('svg.timeline g.run[data-task=retrier] text.retries').textContent() ?? '', /⟳1/);
      await screenshot(page, 'job');

      await page.goto(`${server.lapis.batchUrl}/ui#/jobs`);
      await page.locator('#jobs').getByText(jobId).waitFor();
      await assertNothingOfTheOtherAccount(page);
      await screenshot(page, 'jobs');
      await page.close();
    });

    test('the pool view draws a node heatmap and its history and resizes; the node view shows its start task and the tasks it ran, and its fault button makes it unusable', async () => {
      const page = await signedInPage(browser, server);
      await page.goto(`${server.lapis.batchUrl}/ui#/pools`);
      await page.locator('#pools').getByText(poolId).waitFor();
      await assertNothingOfTheOtherAccount(page);
      await screenshot(page, 'pools');
      await page.goto(`${server.lapis.batchUrl}/ui#/pools/${poolId}`);
      await page.locator('#heatmap .cell').first().waitFor();
      assert.equal(await page.locator('#heatmap .cell').count(), 1);
      await page.locator('#pool-history').getByText('resizing').first().waitFor();
      assert.equal(await page.locator('#faults button[data-fault]').count() > 0, true);
      await screenshot(page, 'pool');
      // An autoscale pool: its evaluation's results in the history.
      const autoPoolId = uniqueId('AutoPool');
      await server.batch.pool.add(poolSpec(autoPoolId, { targetDedicatedNodes: undefined, enableAutoScale: true, autoScaleFormula: '$TargetDedicatedNodes = 0;', autoScaleEvaluationInterval: 'PT5M' }));
      await page.goto(`${server.lapis.batchUrl}/ui#/pools/${autoPoolId}`);
      await page.locator('#autoscale-runs').getByText('$TargetDedicatedNodes=0').waitFor();
      await screenshot(page, 'pool-autoscale');
      // Resize from the page: the heatmap grows to the new target without a reload.
      await page.goto(`${server.lapis.batchUrl}/ui#/pools/${poolId}`);
      await page.locator('#heatmap .cell').first().waitFor();
      await page.fill('#resize input >> nth=0', '2');
      await page.click('#resize button[type=submit]');
      await page.locator('#heatmap .cell').nth(1).waitFor({ timeout: 30_000 });
      assert.equal((await server.batch.pool.get(poolId)).targetDedicatedNodes, 2);
      const ranTalker = (await server.batch.task.get(jobId, 'talker')).nodeInfo?.nodeId as string;
      await page.click(`#heatmap .cell[data-node="${ranTalker}"]`);
      await page.locator('[data-view=node] #start-task .state-completed').waitFor();
      await page.locator('pre[data-file="startup/stdout.txt"]').filter({ hasText: 'node ready' }).waitFor();
      await page.locator('#node-tasks').getByText(`${jobId} / talker`).waitFor();
      await screenshot(page, 'node');
      // A fault button (the server runs with --faults) prefills the fault for this node; injected, the node turns unusable on the page.
      await page.click('#faults button[data-fault=nodeUnusable]');
      const draft = JSON.parse(await page.locator('#faults textarea').inputValue()) as Record<string, string>;
      assert.equal(draft.poolId, poolId);
      await page.getByRole('button', { name: 'Inject' }).click();
      await page.locator('[data-view=node] .fields .state-unusable').waitFor({ timeout: 30_000 });
      assert.equal((await server.batch.computeNode.get(poolId, draft.nodeId as string)).state, 'unusable');
      await page.close();
    });

    test(`a job of ${BIG_JOB_TASKS.toLocaleString('en-US')} tasks pages from the server`, { timeout: 240_000 }, async () => {
      await addManyTasks(bigJobId, BIG_JOB_TASKS);
      const page = await signedInPage(browser, server);
      await page.goto(`${server.lapis.batchUrl}/ui#/jobs/${bigJobId}`);
      await page.locator('#page-info').filter({ hasText: 'Tasks 1–50 of 100,000' }).waitFor();
      assert.equal(await page.locator('#task-table tbody tr').count(), 50);
      assert.equal(await page.locator('#task-table tbody td:first-child').first().innerText(), 'task-000000');
      await page.locator('#task-counts').filter({ hasText: '100,000 active' }).waitFor();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.locator('#page-info').filter({ hasText: 'Tasks 51–100 of 100,000' }).waitFor();
      assert.equal(await page.locator('#task-table tbody td:first-child').first().innerText(), 'task-000050');
      await page.getByRole('button', { name: 'Previous' }).click();
      await page.locator('#page-info').filter({ hasText: 'Tasks 1–50 of 100,000' }).waitFor();
      await screenshot(page, 'big-job');
      await page.fill('input[name=exitCode]', '0');
      await page.press('input[name=exitCode]', 'Enter');
      await page.locator('#page-info').filter({ hasText: 'No matching tasks.' }).waitFor();
      await screenshot(page, 'big-job-exit-code-filter');
      await page.close();
    });
  });
});
