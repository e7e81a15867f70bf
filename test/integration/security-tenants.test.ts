// Tenants do not share a uid, and nothing a task starts outlives it: attacks
// made as task code would make them, through @azure/batch, with the server
// as root and two accounts. Each test checks first that the attacker could
// see its victim, so a test cannot pass by finding nothing.

import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

const OTHER = { name: 'tenantb', key: Buffer.from('the second tenant key of the tenant isolation test, 64 bytes!!').toString('base64') };
const notRoot = process.getuid?.() !== 0 && 'tasks run as users of their own only when Lapis runs as root';

/** Pids of live processes whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue;
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(marker)) found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** A sleep whose command line is unique to this run of the test. */
function uniqueSleep(): string {
  return `${randomInt(100_000, 999_999)}.${randomInt(100, 999)}`;
}

async function stdoutOf(batch: TestServer['batch'], jobId: string, taskId: string): Promise<string> {
  return readStream((await batch.file.getFromTask(jobId, taskId, 'stdout.txt')).readableStreamBody);
}

let server: TestServer;

before(async () => {
  server = await startTestServer({ config: { accounts: [{ name: 'lapis', key: Buffer.from('the first tenant key of the tenant isolation test, 64 bytes long!').toString('base64') }, OTHER] } });
});

after(async () => {
  await server?.stop();
});

describe('tenants do not share a uid', { skip: notRoot }, () => {
  test("a task cannot read another account's task environment or directory, nor signal it", async () => {
    const victimSleep = uniqueSleep();
    const secret = `victim-secret-${randomInt(1_000_000)}`;
    const poolA = uniqueId('VictimPool');
    await addPoolAndWait(server.batch, poolA, { targetDedicatedNodes: 1 });
    const jobA = uniqueId('VictimJob');
    await server.batch.job.add({ id: jobA, poolInfo: { poolId: poolA } });
    await server.batch.task.add(jobA, {
      id: 'victim',
      commandLine: `/bin/sleep ${victimSleep}`,
      environmentSettings: [{ name: 'VICTIM_SECRET', value: secret }],
      authenticationTokenSettings: { access: ['job'] },
    });
    await waitForTaskState(server.batch, jobA, 'victim', 'running');
    const [victimPid] = await waitFor(async () => {
      const found = processesWith(victimSleep);
      return found.length > 0 ? found : undefined;
    });

    const other = server.batchClientFor(OTHER.name, OTHER.key);
    const poolB = uniqueId('AttackerPool');
    await addPoolAndWait(other, poolB, { targetDedicatedNodes: 1 });
    const jobB = uniqueId('AttackerJob');
    await other.job.add({ id: jobB, poolInfo: { poolId: poolB } });
    // The marker is computed, so that the attacker's own command line does not hold it.
    const [whole, fraction] = victimSleep.split('.') as [string, string];
    const script = [
      `M=$((${Number(whole) - 1}+1)).${fraction}`,
      'for p in $(grep -l "$M" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do',
      '  [ "$p" = "$$" ] && continue',
      '  echo "FOUND $p"',
      '  if tr "\\0" "\\n" < /proc/$p/environ 2>/dev/null | grep -q AZ_BATCH; then echo "ENVIRON READ"; tr "\\0" "\\n" < /proc/$p/environ; fi',
      '  if ls /proc/$p/cwd/ >/dev/null 2>&1; then echo "CWD READ"; fi',
      '  if kill -0 $p 2>/dev/null; then echo "SIGNAL SENT"; fi',
      '  if kill -9 $p 2>/dev/null; then echo "KILLED"; fi',
      'done',
    ].join('\n');
    await other.task.add(jobB, { id: 'attacker', commandLine: `/bin/bash -c '${script}'` });
    const attacker = await waitForTaskState(other, jobB, 'attacker', 'completed');
    assert.equal(attacker.executionInfo?.exitCode, 0);
    const output = await stdoutOf(other, jobB, 'attacker');
    assert.ok(output.includes(`FOUND ${victimPid}\n`), `the attacker saw its victim (${victimPid}) in the process list:\n${output}`);
    for (const breach of ['ENVIRON READ', 'CWD READ', 'SIGNAL SENT', 'KILLED']) assert.ok(!output.includes(breach), `${breach}:\n${output}`);
    assert.ok(!output.includes(secret));

    const victim = await server.batch.task.get(jobA, 'victim');
    assert.equal(victim.state, 'running', 'the victim runs on');
    await server.batch.task.terminate(jobA, 'victim');
  });

  test('pools and accounts run as users of their own; task scope gives a task a user of its own', async () => {
    const idOf = async (batch: TestServer['batch'], poolId: string, userIdentity?: { autoUser: { scope: 'task' | 'pool' } }) => {
      const jobId = uniqueId('Ids');
      await batch.job.add({ id: jobId, poolInfo: { poolId } });
      await batch.task.add(jobId, { id: 'id', commandLine: '/bin/sh -c "id -u; id -g"', userIdentity });
      const task = await waitForTaskState(batch, jobId, 'id', 'completed');
      assert.equal(task.executionInfo?.exitCode, 0);
      const [uid, gid] = (await stdoutOf(batch, jobId, 'id')).trim().split('\n').map(Number) as [number, number];
      return { uid, gid };
    };
    const other = server.batchClientFor(OTHER.name, OTHER.key);
    const poolA = uniqueId('UidsA');
    const poolA2 = uniqueId('UidsA2');
    const poolB = uniqueId('UidsB');
    await Promise.all([addPoolAndWait(server.batch, poolA, { targetDedicatedNodes: 1, taskSlotsPerNode: 2 }), addPoolAndWait(server.batch, poolA2), addPoolAndWait(other, poolB)]);

    const a = await idOf(server.batch, poolA);
    const aAgain = await idOf(server.batch, poolA, { autoUser: { scope: 'pool' } });
    const a2 = await idOf(server.batch, poolA2);
    const b = await idOf(other, poolB);
    assert.deepEqual(aAgain, a, 'a task with no userIdentity runs as the pool-scope auto user, as Batch reports it');
    for (const uid of [a.uid, a2.uid, b.uid]) assert.ok(uid !== 0 && uid !== 65534, `an unprivileged user of its own, not ${uid}`);
    assert.equal(new Set([a.uid, a2.uid, b.uid]).size, 3, 'two pools of one account and another account: three uids');
    assert.equal(new Set([a.gid, a2.gid, b.gid]).size, 3, 'each pool has a group of its own');

    // Two task-scope tasks at once on one node: two users, neither the pool's.
    const jobId = uniqueId('TaskScope');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId: poolA } });
    for (const id of ['one', 'two']) {
      await server.batch.task.add(jobId, {
        id,
        commandLine: `/bin/sh -c "id -u; touch $AZ_BATCH_NODE_SHARED_DIR/${jobId}-${id}; while [ ! -e $AZ_BATCH_NODE_SHARED_DIR/${jobId}-${id === 'one' ? 'two' : 'one'} ]; do sleep 0.05; done"`,
        userIdentity: { autoUser: { scope: 'task' } },
        constraints: { maxWallClockTime: 'PT30S' },
      });
    }
    const uids = [];
    for (const id of ['one', 'two']) {
      const task = await waitForTaskState(server.batch, jobId, id, 'completed');
      assert.equal(task.executionInfo?.exitCode, 0, 'both ran at once');
      uids.push(Number((await stdoutOf(server.batch, jobId, id)).trim()));
    }
    assert.equal(new Set([...uids, a.uid]).size, 3, `task scope: a user per task (${uids.join(', ')}; pool ${a.uid})`);
  });
});

describe("a pool's OS accounts", { skip: notRoot }, () => {
  test('its users and its group are removed with the pool', async () => {
    const poolId = uniqueId('Accounts');
    await addPoolAndWait(server.batch, poolId);
    const jobId = uniqueId('Names');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'pool', commandLine: '/bin/sh -c "id -un; id -gn"' });
    await server.batch.task.add(jobId, { id: 'task', commandLine: '/usr/bin/id -un', userIdentity: { autoUser: { scope: 'task' } } });
    await waitForTaskState(server.batch, jobId, 'pool', 'completed');
    await waitForTaskState(server.batch, jobId, 'task', 'completed');
    const [poolUser, group] = (await stdoutOf(server.batch, jobId, 'pool')).trim().split('\n') as [string, string];
    const taskUser = (await stdoutOf(server.batch, jobId, 'task')).trim();
    const users = () => fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => line.split(':')[0]);
    const groups = () => fs.readFileSync('/etc/group', 'utf8').split('\n').map((line) => line.split(':')[0]);
    assert.ok(users().includes(poolUser) && users().includes(taskUser) && groups().includes(group), `${poolUser}, ${taskUser}, ${group} exist`);
    await server.batch.pool.deleteMethod(poolId);
    await waitFor(async () => ((await server.batch.pool.list()).some((pool) => pool.id === poolId) ? undefined : true), { what: 'the pool to go' });
    await waitFor(async () => (users().includes(poolUser) || users().includes(taskUser) || groups().includes(group) ? undefined : true), { what: 'the accounts to go' });
  });
});

/** A command that leaves three kinds of survivors: a new session, a double fork and nohup (given time to detach). */
function daemonsCommand(marker: string): string {
  return `/bin/bash -c "setsid /bin/sleep ${marker}1 </dev/null >/dev/null 2>&1 & ( /bin/sleep ${marker}2 </dev/null >/dev/null 2>&1 & ) ; nohup /bin/sleep ${marker}3 </dev/null >/dev/null 2>&1 & /bin/sleep 0.3; exit 0"`;
}

async function runLeavingDaemons(batch: TestServer['batch'], poolId: string, scope: 'task' | 'pool'): Promise<string> {
  const marker = `${randomInt(100_000, 999_999)}.`;
  const jobId = uniqueId('Daemons');
  await batch.job.add({ id: jobId, poolInfo: { poolId } });
  await batch.task.add(jobId, { id: 'leaver', commandLine: daemonsCommand(marker), userIdentity: { autoUser: { scope } } });
  const task = await waitForTaskState(batch, jobId, 'leaver', 'completed');
  assert.equal(task.executionInfo?.exitCode, 0);
  return marker;
}

describe('nothing a task starts outlives it', { skip: notRoot }, () => {
  for (const scope of ['pool', 'task'] as const) {
    test(`setsid, a double fork and nohup end with their task (${scope} scope)`, async () => {
      const poolId = uniqueId('Outlive');
      await addPoolAndWait(server.batch, poolId);
      const marker = await runLeavingDaemons(server.batch, poolId, scope);
      await waitFor(async () => (processesWith(marker).length === 0 ? true : undefined), { timeoutMs: 10_000, what: `the daemons of ${marker} to end` });
    });
  }

  test("a start task's processes live while its node does and end when the pool is deleted", async () => {
    const marker = `${randomInt(100_000, 999_999)}.`;
    const poolId = uniqueId('StartDaemon');
    await addPoolAndWait(server.batch, poolId, { startTask: { commandLine: daemonsCommand(marker), waitForSuccess: true } });
    await waitFor(async () => ((await server.batch.computeNode.list(poolId))[0]?.state === 'idle' ? true : undefined));
    assert.equal(processesWith(marker).length, 3, "the start task's daemons run on, as on a Batch node");
    await server.batch.pool.deleteMethod(poolId);
    await waitFor(async () => (processesWith(marker).length === 0 ? true : undefined), { timeoutMs: 15_000, what: 'the daemons to end with the pool' });
  });
});

describe('without control groups', { skip: notRoot }, () => {
  let fallback: TestServer;

  before(async () => {
    process.env.LAPIS_CGROUPS = 'off';
    try {
      fallback = await startTestServer();
    } finally {
      delete process.env.LAPIS_CGROUPS;
    }
  });

  after(async () => {
    await fallback?.stop();
  });

  test("a task-scope task's processes end with it, and a pool's with its deletion", async () => {
    const poolId = uniqueId('NoCgroups');
    await addPoolAndWait(fallback.batch, poolId);
    const taskMarker = await runLeavingDaemons(fallback.batch, poolId, 'task');
    await waitFor(async () => (processesWith(taskMarker).length === 0 ? true : undefined), { timeoutMs: 10_000, what: 'the task-scope daemons to end' });
    const poolMarker = await runLeavingDaemons(fallback.batch, poolId, 'pool');
    assert.ok(processesWith(poolMarker).length > 0, 'without control groups, a pool-scope task can leave a daemon until its node goes');
    await fallback.batch.pool.deleteMethod(poolId);
    await waitFor(async () => (processesWith(poolMarker).length === 0 ? true : undefined), { timeoutMs: 15_000, what: 'the pool-scope daemons to end with the pool' });
  });
});
