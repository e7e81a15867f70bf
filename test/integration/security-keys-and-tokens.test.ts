// Issue 10, "A task cannot escape its node": account keys stay out of every
// process a task can look at, a job's token dies with its job, a signed
// request cannot gain query parameters, and the operator can refuse admin
// tasks (--admin-tasks refuse).

import { BatchServiceClient, BatchSharedKeyCredentials, type BatchServiceModels } from '@azure/batch';
import { RestError, TokenCredentials } from '@azure/ms-rest-js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, poolSpec, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { signedRequestHead, type BatchErrorBody } from '../../src/testkit/signed-request.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

const BIN = path.resolve('bin/lapis.js');
const ALPHA = { name: 'alpha', key: Buffer.from('alpha account key: account B must never read this, 64 bytes!!!').toString('base64') };
const BETA = { name: 'beta', key: Buffer.from('beta account key, the tenant whose task goes looking for alpha.').toString('base64') };
const notRoot = process.getuid?.() !== 0 && 'tasks run as an unprivileged user only when Lapis runs as root';

interface Served {
  child: ChildProcess;
  batchUrl: string;
  /** stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/** `lapis serve` as a child process; resolves at `ready`, rejects with its output if it exits first. */
function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--blob-port', '0', '--in-memory', '--log-level', 'warn', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const check = () => {
      const url = /^Batch URL:\s+(\S+)$/m.exec(output)?.[1];
      if (url && /^ready$/m.test(output)) {
        child.stdout?.off('data', check);
        resolve({
          child,
          batchUrl: url,
          output: () => output,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(timer);
          },
        });
      }
    };
    child.stdout?.on('data', check);
    void exited.then(() => reject(new Error(`lapis serve exited with ${child.exitCode ?? child.signalCode}: ${output}`)));
  });
}

function accountsFile(text: string, mode: number): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-accounts-'));
  const file = path.join(directory, 'accounts');
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode);
  return file;
}

async function taskOutput(batch: BatchServiceClient, jobId: string, taskId: string): Promise<string> {
  return readStream((await batch.file.getFromTask(jobId, taskId, 'stdout.txt')).readableStreamBody);
}

/** Runs a command line as a task of `batch`'s account on a fresh one-node pool and returns its stdout. */
async function runTask(batch: BatchServiceClient, commandLine: string, extra: Partial<BatchServiceModels.TaskAddParameter> = {}): Promise<string> {
  const poolId = uniqueId('Probe');
  await addPoolAndWait(batch, poolId, { targetDedicatedNodes: 1 });
  const jobId = uniqueId('Job');
  await batch.job.add({ id: jobId, poolInfo: { poolId } });
  await batch.task.add(jobId, { id: 'probe', commandLine, ...extra });
  const task = await waitForTaskState(batch, jobId, 'probe', 'completed');
  assert.equal(task.executionInfo?.exitCode, 0, JSON.stringify(task.executionInfo));
  return taskOutput(batch, jobId, 'probe');
}

/** A task script printing what it can read of another process: its command line and environment, base64, or DENIED. */
function probeProcess(pid: number): string {
  const dump = (file: string) => `if data=$(base64 -w0 < /proc/${pid}/${file} 2>/dev/null); then echo "${file}=$data"; else echo "${file}=DENIED"; fi`;
  return `/bin/bash -c '${dump('cmdline')}; ${dump('environ')}; echo "self=$(env | base64 -w0)"'`;
}

function probed(output: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of output.trim().split('\n')) {
    const equals = line.indexOf('=');
    const value = line.slice(equals + 1);
    fields[line.slice(0, equals)] = value === 'DENIED' ? value : Buffer.from(value, 'base64').toString('utf8');
  }
  return fields;
}

describe('account keys stay out of the process list', () => {
  test("a task of account B finds no trace of account A's key in the server's command line or environment (--accounts-file)", { skip: notRoot }, async () => {
    const file = accountsFile(`# two tenants\n\n${ALPHA.name}:${ALPHA.key}\n${BETA.name}:${BETA.key}\n`, 0o600);
    const served = await serve(['--accounts-file', file]);
    try {
      assert.doesNotMatch(served.output(), /warning/i, 'no warning for the safe way');
      const alpha = new BatchServiceClient(new BatchSharedKeyCredentials(ALPHA.name, ALPHA.key), served.batchUrl);
      assert.equal((await alpha.pool.list()).length, 0, 'account A authenticates with its key from the file');
      const beta = new BatchServiceClient(new BatchSharedKeyCredentials(BETA.name, BETA.key), served.batchUrl);
      const seen = probed(await runTask(beta, probeProcess(served.child.pid as number)));
      assert.ok(seen.cmdline?.includes('--accounts-file'), `the task did read the command line: ${seen.cmdline}`);
      assert.ok(!seen.cmdline?.includes(ALPHA.key), "account A's key is not in the server's command line");
      assert.equal(seen.environ, 'DENIED', "the task cannot read the server's environment");
      assert.ok(seen.self !== undefined && !seen.self.includes(ALPHA.key), "the task's own environment holds no key");
    } finally {
      await served.stop();
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  test('keys given in LAPIS_ACCOUNTS are not inherited by tasks, and the server environment is closed to them', { skip: notRoot }, async () => {
    const served = await serve([], { LAPIS_ACCOUNTS: `${ALPHA.name}:${ALPHA.key};${BETA.name}:${BETA.key}` });
    try {
      const beta = new BatchServiceClient(new BatchSharedKeyCredentials(BETA.name, BETA.key), served.batchUrl);
      const seen = probed(await runTask(beta, probeProcess(served.child.pid as number)));
      assert.ok(seen.cmdline !== 'DENIED' && !seen.cmdline?.includes(ALPHA.key));
      assert.equal(seen.environ, 'DENIED');
      assert.ok(seen.self !== undefined && !seen.self.includes(ALPHA.key) && !seen.self.includes('LAPIS_ACCOUNTS'), seen.self);
    } finally {
      await served.stop();
    }
  });

  test('--account still works but warns at start, naming the flag and the safe ways', async () => {
    const served = await serve(['--account', `${ALPHA.name}:${ALPHA.key}`]);
    try {
      assert.match(served.output(), /--account puts account keys on the command line.*--accounts-file.*LAPIS_ACCOUNTS/);
      assert.ok(!served.output().includes(ALPHA.key), 'a key that is not the development key is not printed');
      const alpha = new BatchServiceClient(new BatchSharedKeyCredentials(ALPHA.name, ALPHA.key), served.batchUrl);
      assert.equal((await alpha.pool.list()).length, 0);
    } finally {
      await served.stop();
    }
  });

  test('an accounts file that others may read (0644) is refused with an error naming the file', async () => {
    const file = accountsFile(`${ALPHA.name}:${ALPHA.key}\n`, 0o644);
    try {
      await assert.rejects(serve(['--accounts-file', file]), (error: Error) => {
        assert.match(error.message, new RegExp(`accounts file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has mode 0644`));
        assert.match(error.message, /chmod 600/);
        assert.ok(!error.message.includes(ALPHA.key), 'the error does not echo the key');
        return true;
      });
      await assert.rejects(serve([], { LAPIS_ACCOUNTS_FILE: file }), /has mode 0644/);
      if (process.getuid?.() === 0) {
        // 0600 but another user's: that user could change the keys.
        fs.chmodSync(file, 0o600);
        fs.chownSync(file, 65534, 65534);
        await assert.rejects(serve(['--accounts-file', file]), /belongs to uid 65534, not to the user running lapis \(uid 0\)/);
      }
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});

describe('tokens and signatures', () => {
  let server: TestServer;
  let poolId: string;

  before(async () => {
    server = await startTestServer();
    poolId = uniqueId('Tokens');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1 });
  });

  after(async () => {
    await server?.stop();
  });

  test('a job token works on its job, and not on a job added again with the same id after a delete', async () => {
    const jobId = uniqueId('Job');
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await server.batch.task.add(jobId, { id: 'show', commandLine: '/bin/bash -c "echo $AZ_BATCH_AUTHENTICATION_TOKEN"', authenticationTokenSettings: { access: ['job'] } });
    await waitForTaskState(server.batch, jobId, 'show', 'completed');
    const token = (await taskOutput(server.batch, jobId, 'show')).trim();
    assert.ok(token.length > 20, 'the task printed its token');
    const withToken = new BatchServiceClient(new TokenCredentials(token), server.lapis.batchUrl);
    assert.equal((await withToken.job.get(jobId)).id, jobId, 'the token works on its job');

    await server.batch.job.deleteMethod(jobId);
    await waitFor(async () => server.batch.job.get(jobId).then(() => undefined, (error: RestError) => (error.statusCode === 404 ? true : undefined)), { what: 'the job to be gone' });
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });

    await assert.rejects(withToken.job.get(jobId), (error: unknown) => {
      assert.ok(error instanceof RestError);
      assert.equal(error.statusCode, 403);
      assert.equal(error.code, 'AuthenticationFailed');
      return true;
    });
    await assert.rejects(withToken.task.list(jobId), (error: RestError) => error.statusCode === 403 && error.code === 'AuthenticationFailed');
    assert.equal((await server.batch.job.get(jobId)).id, jobId, 'the new job itself is there');
  });

  test('a signed request replayed with an empty query parameter appended (&timeout=) is refused', async () => {
    const { target, headers } = await signedRequestHead(server, 'GET', '/pools');
    const original = await send(server, 'GET', target, headers);
    assert.equal(original.status, 200, original.text);
    for (const extra of ['&timeout=', '&timeout', '&$filter=']) {
      const replayed = await send(server, 'GET', `${target}${extra}`, headers);
      assert.equal(replayed.status, 403, `${extra}: ${replayed.text}`);
      assert.equal(replayed.body.code, 'AuthenticationFailed', extra);
    }
  });
});

async function send(server: TestServer, method: string, target: string, headers: Record<string, string>): Promise<{ status: number; text: string; body: BatchErrorBody }> {
  const url = new URL(server.lapis.batchUrl);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: url.hostname, port: url.port, method, path: target, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode ?? 0, text, body: text ? (JSON.parse(text) as BatchErrorBody) : {} });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

/** Asserts Batch's InvalidPropertyValue for a refused admin property, as the SDK reports it. */
function adminRefused(property: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof RestError, String(error));
    assert.equal(error.statusCode, 400, error.message);
    assert.equal(error.code, 'InvalidPropertyValue', error.message);
    const values = (error.body as BatchErrorBody).values ?? [];
    const value = (key: string) => values.find((entry) => entry.key === key)?.value;
    assert.equal(value('PropertyName'), property);
    assert.equal(value('PropertyValue'), 'admin');
    assert.match(value('Reason') ?? '', /--admin-tasks refuse/);
    return true;
  };
}

const ADMIN = { autoUser: { elevationLevel: 'admin', scope: 'task' } } as const;

describe('--admin-tasks refuse', () => {
  let refusing: TestServer;
  let poolId: string;

  before(async () => {
    refusing = await startTestServer({ config: { adminTasks: 'refuse' } });
    poolId = uniqueId('Plain');
    await refusing.batch.pool.add(poolSpec(poolId, { targetDedicatedNodes: 0 }));
  });

  after(async () => {
    await refusing?.stop();
  });

  test('Task_Add and Task_AddCollection with an admin auto user are refused; nothing is added', async () => {
    const jobId = uniqueId('Job');
    await refusing.batch.job.add({ id: jobId, poolInfo: { poolId } });
    await assert.rejects(refusing.batch.task.add(jobId, { id: 'root', commandLine: '/bin/true', userIdentity: ADMIN }), adminRefused('userIdentity.autoUser.elevationLevel'));
    const collection = await refusing.batch.task.addCollection(jobId, [
      { id: 'plain', commandLine: '/bin/true' },
      { id: 'root2', commandLine: '/bin/true', userIdentity: ADMIN },
    ]);
    const root2 = collection.value?.find((result) => result.taskId === 'root2');
    assert.equal(root2?.status, 'clienterror');
    assert.equal(root2?.error?.code, 'InvalidPropertyValue');
    assert.deepEqual((await refusing.batch.task.list(jobId)).map((task) => task.id), ['plain'], 'only the non-admin task was added');
  });

  test('Pool_Add with an admin start task or an admin user account is refused; no pool is created', async () => {
    const withStartTask = uniqueId('AdminStart');
    await assert.rejects(
      refusing.batch.pool.add(poolSpec(withStartTask, { startTask: { commandLine: '/bin/true', userIdentity: ADMIN } })),
      adminRefused('startTask.userIdentity.autoUser.elevationLevel'),
    );
    const withUser = uniqueId('AdminUser');
    await assert.rejects(
      refusing.batch.pool.add(poolSpec(withUser, { userAccounts: [{ name: 'boss', password: 'Passw0rd!', elevationLevel: 'admin' }] })),
      adminRefused('userAccounts[0].elevationLevel'),
    );
    const ids = (await refusing.batch.pool.list()).map((pool) => pool.id);
    assert.ok(!ids.includes(withStartTask) && !ids.includes(withUser), ids.join(','));
    await assert.rejects(
      refusing.batch.pool.patch(poolId, { startTask: { commandLine: '/bin/true', userIdentity: ADMIN } }),
      adminRefused('startTask.userIdentity.autoUser.elevationLevel'),
    );
    assert.equal((await refusing.batch.pool.get(poolId)).startTask, undefined, 'the pool is unchanged');
  });

  test('Job_Add with an admin job manager or preparation task is refused; no job is created', async () => {
    const jobId = uniqueId('AdminJob');
    await assert.rejects(
      refusing.batch.job.add({ id: jobId, poolInfo: { poolId }, jobManagerTask: { id: 'manager', commandLine: '/bin/true', userIdentity: ADMIN } }),
      adminRefused('jobManagerTask.userIdentity.autoUser.elevationLevel'),
    );
    await assert.rejects(
      refusing.batch.job.add({ id: jobId, poolInfo: { poolId }, jobPreparationTask: { commandLine: '/bin/true', userIdentity: ADMIN } }),
      adminRefused('jobPreparationTask.userIdentity.autoUser.elevationLevel'),
    );
    await assert.rejects(refusing.batch.job.get(jobId), (error: RestError) => error.statusCode === 404);
    const scheduleId = uniqueId('AdminSchedule');
    await assert.rejects(
      refusing.batch.jobSchedule.add({
        id: scheduleId,
        schedule: { recurrenceInterval: 'PT1H' },
        jobSpecification: { poolInfo: { poolId }, jobReleaseTask: { commandLine: '/bin/true', userIdentity: ADMIN } },
      }),
      adminRefused('jobSpecification.jobReleaseTask.userIdentity.autoUser.elevationLevel'),
    );
    assert.deepEqual((await refusing.batch.jobSchedule.list()).map((schedule) => schedule.id), []);
  });

  test('with allow, the default, the same requests are accepted', async () => {
    const allowing = await startTestServer();
    try {
      const pool = uniqueId('Allowed');
      await allowing.batch.pool.add(poolSpec(pool, { targetDedicatedNodes: 0, startTask: { commandLine: '/bin/true', userIdentity: ADMIN }, userAccounts: [{ name: 'boss', password: 'Passw0rd!', elevationLevel: 'admin' }] }));
      const jobId = uniqueId('Job');
      await allowing.batch.job.add({ id: jobId, poolInfo: { poolId: pool }, jobManagerTask: { id: 'manager', commandLine: '/bin/true', userIdentity: ADMIN } });
      await allowing.batch.task.add(jobId, { id: 'root', commandLine: '/bin/true', userIdentity: ADMIN });
      assert.equal((await allowing.batch.task.get(jobId, 'root')).userIdentity?.autoUser?.elevationLevel, 'admin');
    } finally {
      await allowing.stop();
    }
  });
});
