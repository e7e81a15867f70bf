import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import { BlobServiceClient } from '@azure/storage-blob';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { EmbeddedBlobServer } from '../../src/blob/embedded-blob-server.js';
import { DEV_ACCOUNT } from '../../src/config/config.js';
import { poolSpec, readStream, waitForPoolSteady, waitForTaskState } from '../../src/testkit/builders.js';
import { waitFor } from '../../src/testkit/test-server.js';

const BIN = path.resolve('bin/lapis.js');

function startServe(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; ready: Promise<Record<string, string>> } {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--blob-port', '0', '--log-level', 'warn', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = new Promise<Record<string, string>>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/^ready$/m.test(output)) {
        const fields: Record<string, string> = {};
        for (const line of output.split('\n')) {
          const match = /^([A-Za-z ]+):\s+(.*)$/.exec(line);
          if (match) fields[match[1] as string] = match[2] as string;
        }
        resolve(fields);
      }
    });
    child.once('exit', (code) => reject(new Error(`lapis serve exited with ${code} before ready: ${output}`)));
  });
  return { child, ready };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

test('lapis serve prints the endpoints and keys, answers /health, requires auth elsewhere, and stops on SIGTERM', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-cli-'));
  const { child, ready } = startServe(['--data', dataDir]);
  try {
    const fields = await ready;
    const batchUrl = fields['Batch URL'] as string;
    assert.match(batchUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(fields['Batch account'], 'lapis');
    assert.ok(fields['Batch key']);
    assert.match(fields['Blob URL'] ?? '', /^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
    assert.equal(fields['Storage account'], 'devstoreaccount1');

    assert.equal((await fetch(`${batchUrl}/health`)).status, 200);
    const anonymous = await fetch(`${batchUrl}/pools?api-version=2022-10-01.16.0`);
    assert.equal(anonymous.status, 403);
    assert.equal(((await anonymous.json()) as { code: string }).code, 'AuthenticationFailed');

    const batch = new BatchServiceClient(new BatchSharedKeyCredentials('lapis', fields['Batch key'] as string), batchUrl);
    await batch.pool.add(poolSpec('CliPool'));
    await waitForPoolSteady(batch, 'CliPool');
    assert.ok(fs.existsSync(path.join(dataDir, 'lapis.db')), 'the store lives in --data');

    const code = exited(child);
    child.kill('SIGTERM');
    assert.equal(await code, 0);
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('--account and LAPIS_ACCOUNTS choose the accounts', async () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  const { child, ready } = startServe(['--in-memory', '--account', `alpha:${key}`], { LAPIS_ACCOUNTS: 'ignored:aWdub3JlZGlnbm9yZWRpZ25vcmVk' });
  try {
    const fields = await ready;
    assert.equal(fields['Batch account'], 'alpha');
    const batch = new BatchServiceClient(new BatchSharedKeyCredentials('alpha', key), fields['Batch URL'] as string);
    assert.equal((await batch.pool.list()).length, 0);
    const code = exited(child);
    child.kill('SIGINT');
    assert.equal(await code, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

/** Runs `lapis <args>` to its end. */
function runLapis(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('lapis app add registers a package version that the served account lists; it refuses an unknown account and a directory without a store', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-app-'));
  const source = path.join(dataDir, 'package');
  fs.mkdirSync(source);
  fs.writeFileSync(path.join(source, 'tool.sh'), '#!/bin/sh\necho tool\n');
  // Tasks (Lapis runs them as other users when root) must reach the data directory: mkdtemp's 0700 would shut them out.
  fs.chmodSync(dataDir, 0o755);
  const data = path.join(dataDir, 'data');

  const noStore = await runLapis(['app', 'add', 'tool', '1.2', source, '--data', data]);
  assert.equal(noStore.code, 1);
  assert.match(noStore.stderr, /holds no Lapis store .*--data/);
  assert.equal(fs.existsSync(data), false, 'no data directory was made');

  // A server makes the store; app add works beside it or after it.
  const first = startServe(['--data', data]);
  await first.ready;
  first.child.kill('SIGTERM');
  await exited(first.child);

  const unknown = await runLapis(['app', 'add', 'tool', '1.2', source, '--data', data, '--account', 'nosuchaccount']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /The account 'nosuchaccount' is not one the server serves \(lapis\)/);

  const added = await runLapis(['app', 'add', 'tool', '1.2', source, '--data', data, '--default']);
  assert.equal(added.code, 0, added.stderr);
  assert.deepEqual(JSON.parse(added.stdout), { id: 'tool', displayName: 'tool', versions: ['1.2'] });
  const { child, ready } = startServe(['--data', data]);
  try {
    const fields = await ready;
    const batch = new BatchServiceClient(new BatchSharedKeyCredentials(fields['Batch account'] as string, fields['Batch key'] as string), fields['Batch URL'] as string);
    const applications = await batch.application.list();
    assert.deepEqual(applications.map((application) => [application.id, application.versions]), [['tool', ['1.2']]]);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('lapis --version prints the version of package.json', async () => {
  const { version } = JSON.parse(fs.readFileSync(path.resolve('package.json'), 'utf8')) as { version: string };
  const printed = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, '--version'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout }));
  });
  assert.equal(printed.code, 0);
  assert.equal(printed.stdout, `${version}\n`);
});

/** `lapis serve --ready-json`: the one JSON line on stdout; the logs (stderr) collected in `logs`. */
function startServeJson(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; ready: Promise<ReadyJson>; logs: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'serve', '--ready-json', '--port', '0', '--blob-port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = exited(child);
  const ready = new Promise<ReadyJson>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve(JSON.parse(stdout) as ReadyJson);
    });
    void exit.then((code) => reject(new Error(`lapis serve exited with ${code} before ready: ${stderr}`)));
  });
  return { child, ready, logs: () => stderr, exit };
}

interface ReadyJson {
  ready: boolean;
  pid: number;
  batchUrl: string;
  accounts: { name: string; key: string | null }[];
  blobUrl: string;
  storageAccount: string;
  storageKey: string | null;
  blobConnectionString: string | null;
  dataDirectory: string | null;
  nodesDirectory: string;
  dashboardUrl: string;
  dashboardSignInLink: string | null;
}

test('--ready-json prints one JSON line with every URL, account, key and the blob connection string; the text output has the connection string too', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-json-'));
  const served = startServeJson(['--data', dataDir]);
  try {
    const info = await served.ready;
    assert.equal(info.ready, true);
    assert.equal(info.pid, served.child.pid);
    assert.deepEqual(info.accounts, [{ name: 'lapis', key: DEV_ACCOUNT.key }]);
    assert.equal(info.storageAccount, 'devstoreaccount1');
    assert.equal(info.dataDirectory, dataDir);
    const batch = new BatchServiceClient(new BatchSharedKeyCredentials('lapis', info.accounts[0]?.key as string), info.batchUrl);
    assert.equal((await batch.pool.list()).length, 0);
    // The connection string works as the storage SDK takes it.
    const blob = BlobServiceClient.fromConnectionString(info.blobConnectionString as string);
    assert.equal(blob.url.replace(/\/$/, ''), info.blobUrl);
    await blob.getContainerClient('fromconnectionstring').create();
    assert.deepEqual((await blob.getContainerClient('fromconnectionstring').exists()), true);
    // The development account's dashboard sign-in link signs in once.
    assert.equal(info.dashboardUrl, `${info.batchUrl}/ui`);
    assert.match(info.dashboardSignInLink ?? '', new RegExp(`^${info.batchUrl}/ui/sign-in-link\\?token=`));
    assert.match((await fetch(info.dashboardSignInLink as string)).headers.get('set-cookie') ?? '', /^lapis_session=/);
    assert.equal((await fetch(info.dashboardSignInLink as string)).status, 401);
  } finally {
    served.child.kill('SIGTERM');
    await served.exit;
  }
  const text = startServe(['--data', dataDir]);
  try {
    const fields = await text.ready;
    assert.match(fields['Blob connection string'] ?? '', /^DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=.+;BlobEndpoint=http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1;$/);
  } finally {
    text.child.kill('SIGTERM');
    await exited(text.child);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a port in use fails the start before the data directory is made, naming every clash and its flag, and a running Azurite on the blob port with --blob-endpoint', async () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-ports-'));
  fs.chmodSync(parent, 0o755);
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const takenPort = (taken.address() as net.AddressInfo).port;
  const azurite = new EmbeddedBlobServer({ host: '127.0.0.1', port: 0 });
  const azuriteUrl = await azurite.start();
  const azuritePort = new URL(azuriteUrl).port;
  // Running, as an Azurite started by hand is: it has loaded (the embedded endpoint loads Azurite at its first connection).
  await (await fetch(azuriteUrl)).body?.cancel();
  try {
    const data = path.join(parent, 'data');
    const result = await runLapis(['serve', '--port', String(takenPort), '--blob-port', azuritePort, '--data', data]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`Port ${takenPort} of the Batch endpoint is in use .*--port <port>`));
    assert.match(result.stderr, new RegExp(`Port ${azuritePort} of the embedded blob endpoint is in use .* Azurite.*--blob-endpoint http://127\\.0\\.0\\.1:${azuritePort}/devstoreaccount1.*--blob-port <port>`));
    assert.equal(fs.existsSync(data), false, 'the failed start left a data directory');
  } finally {
    taken.close();
    await azurite.stop();
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('one server per data directory: a second is refused naming the first one\'s pid, and a crashed server leaves no lock behind', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-lock-'));
  const first = startServeJson(['--data', dataDir]);
  try {
    await first.ready;
    const second = await runLapis(['serve', '--port', '0', '--blob-port', '0', '--data', dataDir]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`Another Lapis server \\(pid ${first.child.pid}\\) is using the data directory ${dataDir}.*--data`));
    first.child.kill('SIGKILL');
    await first.exit;
    const third = startServeJson(['--data', dataDir]);
    try {
      assert.equal((await third.ready).ready, true);
    } finally {
      third.child.kill('SIGTERM');
      await third.exit;
    }
  } finally {
    first.child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a data directory that cannot be made names --data', async () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-baddata-'));
  fs.writeFileSync(path.join(parent, 'file'), 'not a directory');
  try {
    const result = await runLapis(['serve', '--port', '0', '--blob-port', '0', '--data', path.join(parent, 'file', 'data')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /The data directory .*file\/data cannot be used \(ENOTDIR.*--data <dir>/);
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

const AS_ROOT = { skip: process.getuid?.() !== 0 && 'tasks run as other users only when Lapis runs as root' };

test('as root, with --data under a directory other users cannot pass (a mktemp -d), the nodes go to a directory of Lapis\'s own and a non-admin task opens its files and the shared directory by full path', { ...AS_ROOT, timeout: 120_000 }, async () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-reach-'));
  assert.equal(fs.statSync(parent).mode & 0o777, 0o700, 'mkdtemp makes it 0700');
  const dataDir = path.join(parent, 'data');
  let nodesDirectory: string | undefined;
  const served = startServeJson(['--data', dataDir]);
  try {
    const info = await served.ready;
    nodesDirectory = info.nodesDirectory;
    assert.match(nodesDirectory, /^\/var\/lib\/lapis\/nodes\/[0-9a-f]{16}$/);
    assert.equal(fs.statSync(parent).mode & 0o777, 0o700, "Lapis left the mode of a directory it does not own alone");
    const batch = new BatchServiceClient(new BatchSharedKeyCredentials('lapis', DEV_ACCOUNT.key), info.batchUrl);
    await batch.pool.add(poolSpec('ReachPool'));
    await waitForPoolSteady(batch, 'ReachPool');
    await batch.job.add({ id: 'ReachJob', poolInfo: { poolId: 'ReachPool' } });
    const script = [
      'test "$(id -u)" != 0',
      'echo written > "$AZ_BATCH_TASK_WORKING_DIR/mine.txt"',
      'cat "$AZ_BATCH_TASK_WORKING_DIR/mine.txt"',
      'echo shared > "$AZ_BATCH_NODE_SHARED_DIR/reach-$$.txt"',
      'cat "$AZ_BATCH_NODE_SHARED_DIR/reach-$$.txt"',
      'ls "$AZ_BATCH_NODE_STARTUP_DIR" >/dev/null',
    ].join(' && ');
    await batch.task.add('ReachJob', { id: 'by-full-path', commandLine: `/bin/sh -c '${script}'` });
    const task = await waitForTaskState(batch, 'ReachJob', 'by-full-path', 'completed', 60_000);
    const stderr = await readStream((await batch.file.getFromTask('ReachJob', 'by-full-path', 'stderr.txt')).readableStreamBody);
    assert.equal(task.executionInfo?.exitCode, 0, `the task ran as a user of its own and reached its files: ${stderr}`);
    assert.equal(await readStream((await batch.file.getFromTask('ReachJob', 'by-full-path', 'stdout.txt')).readableStreamBody), 'written\nshared\n');
    await batch.pool.deleteMethod('ReachPool');
    await waitFor(async () => ((await batch.pool.list()).length === 0 ? true : undefined), { timeoutMs: 60_000, what: 'the pool to go' });
  } finally {
    served.child.kill('SIGTERM');
    await served.exit;
    fs.rmSync(parent, { recursive: true, force: true });
    if (nodesDirectory) fs.rmSync(nodesDirectory, { recursive: true, force: true });
  }
});

test('as root, a --nodes-dir tasks cannot reach fails the start, naming the directory that shuts them out and --nodes-dir', AS_ROOT, async () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-reach-'));
  try {
    const result = await runLapis(['serve', '--port', '0', '--blob-port', '0', '--data', path.join(parent, 'data'), '--nodes-dir', path.join(parent, 'nodes')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`Tasks cannot reach the nodes directory ${parent}/nodes: .*${parent} \\(mode 0700\\).*--nodes-dir`));
    assert.equal(fs.existsSync(path.join(parent, 'data')), false, 'the failed start left its data directory');
    // A directory that exists is not Lapis's to open up: refused, its mode as it was.
    const closed = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-nodes-'));
    try {
      const refused = await runLapis(['serve', '--port', '0', '--blob-port', '0', '--data', path.join(parent, 'data'), '--nodes-dir', closed]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, new RegExp(`Tasks cannot reach the nodes directory ${closed}: .*${closed} \\(mode 0700\\).*--nodes-dir`));
      assert.equal(fs.statSync(closed).mode & 0o777, 0o700);
    } finally {
      fs.rmSync(closed, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('lapis account key prints a new 64-byte key that LAPIS_ACCOUNTS takes; auth failures log (server side only) whether the account is unknown or the signature wrong', async () => {
  const generated = await runLapis(['account', 'key']);
  assert.equal(generated.code, 0);
  const key = generated.stdout.trim();
  assert.equal(Buffer.from(key, 'base64').length, 64);
  assert.notEqual((await runLapis(['account', 'key'])).stdout.trim(), key, 'each key is new');

  const served = startServeJson(['--in-memory', '--log-level', 'warn'], { LAPIS_ACCOUNTS: `alpha:${key}` });
  try {
    const info = await served.ready;
    assert.deepEqual(info.accounts, [{ name: 'alpha', key: null }], 'a key other than the development one is not printed');
    assert.equal((await new BatchServiceClient(new BatchSharedKeyCredentials('alpha', key), info.batchUrl).pool.list()).length, 0);
    const wrongKey = await new BatchServiceClient(new BatchSharedKeyCredentials('alpha', DEV_ACCOUNT.key), info.batchUrl).pool.list().catch((error: Error) => error);
    const unknown = await new BatchServiceClient(new BatchSharedKeyCredentials('nobody', key), info.batchUrl).pool.list().catch((error: Error) => error);
    for (const error of [wrongKey, unknown]) {
      assert.equal((error as { code?: string }).code, 'AuthenticationFailed');
      assert.doesNotMatch(JSON.stringify((error as { message?: unknown }).message), /unknown account|wrong signature/, 'the client is not told which');
    }
    const logged = await waitFor(() => {
      const lines = served.logs().split('\n').filter((line) => line.includes('authentication failed')).map((line) => JSON.parse(line) as { account?: string; reason?: string });
      return lines.length >= 2 ? lines : undefined;
    });
    assert.deepEqual(
      logged.map((line) => [line.account, line.reason]),
      [
        ['alpha', 'wrong signature'],
        ['nobody', 'unknown account'],
      ],
    );
  } finally {
    served.child.kill('SIGTERM');
    await served.exit;
  }
});

test('lapis certs makes the data directory local CA once and says how to trust it; lapis hosts prints the hosts lines for the accounts served', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-certs-'));
  try {
    const certs = await runLapis(['certs', '--data', dataDir]);
    assert.equal(certs.code, 0, certs.stderr);
    const caFile = path.join(fs.realpathSync(dataDir), 'tls', 'ca.pem');
    for (const line of [`NODE_EXTRA_CA_CERTS=${caFile}`, `REQUESTS_CA_BUNDLE=${caFile}`, `curl --cacert ${caFile}`, `keytool -importcert`]) assert.ok(certs.stdout.includes(line), `${line} in:\n${certs.stdout}`);
    assert.doesNotMatch(certs.stdout, /PRIVATE KEY/);
    const again = await runLapis(['certs', '--data', dataDir]);
    assert.equal(again.stdout, certs.stdout);

    const key = Buffer.alloc(64, 3).toString('base64');
    const hosts = await runLapis(['hosts', '--azure-region', 'westeurope', '--blob-host', '127.0.0.2'], { LAPIS_ACCOUNTS: `alpha:${key};beta:${key}` });
    assert.equal(hosts.code, 0, hosts.stderr);
    assert.equal(hosts.stdout, '127.0.0.1 alpha.westeurope.batch.azure.com beta.westeurope.batch.azure.com\n127.0.0.2 devstoreaccount1.blob.core.windows.net\n');
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
