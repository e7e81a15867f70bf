// --azure-hostnames: a client written for Azure reaches Lapis on Azure's URL
// shapes, https://<account>.<region>.batch.azure.com:<port> and
// https://<storage>.blob.core.windows.net:<port>, trusting the local CA Lapis
// keeps in its data directory. The names resolve to 127.0.0.1 inside the
// client processes alone (a resolver override), never through the machine's
// /etc/hosts. Judged by @azure/batch and @azure/storage-blob, by Python
// azure-batch and azure-storage-blob in a Snakemake-shaped client, and by az batch.

import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DEV_ACCOUNT, DEV_STORAGE } from '../../src/config/config.js';
import { TEST_NODE_IMAGE, testNodeImageMissing } from '../../src/testkit/test-node-image.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

const OTHER = { name: 'other', key: Buffer.alloc(64, 7).toString('base64') };
const NODE_CLIENT = path.resolve('test/fixtures/azure-hostnames-client.ts');
const RESOLVER = path.resolve('test/fixtures/resolve-azure-names.ts');
const SNAKEMAKE_CLIENT = path.resolve('test/fixtures/snakemake-shaped-client.py');
const PYTHON_RESOLVER = path.resolve('test/fixtures/python-azure-names');
const hasAz = spawnSync('sh', ['-c', 'command -v az'], { stdio: 'ignore' }).status === 0;
const IMAGE = TEST_NODE_IMAGE;

/** Debian's python3-azure is in the system interpreter, which a pyenv or venv python3 on PATH may hide. */
const python = ['/usr/bin/python3', 'python3'].find(
  (candidate) => spawnSync(candidate, ['-c', 'import azure.batch, azure.storage.blob'], { stdio: 'ignore' }).status === 0,
);

function snakemakeClientMissing(): string | undefined {
  if (!python) return 'needs Python azure-batch and azure-storage-blob (bash scripts/install-client-tools.sh)';
  return testNodeImageMissing();
}
let server: TestServer;

before(async () => {
  server = await startTestServer({
    config: { azureHostnames: true, accounts: [DEV_ACCOUNT, OTHER] },
  });
});

after(async () => {
  await server?.stop();
});

function run(command: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function clientEnv(): Record<string, string> {
  return {
    BATCH_URL: server.lapis.batchUrl,
    BATCH_ACCOUNT: server.account.name,
    BATCH_KEY: server.account.key,
    BLOB_URL: server.lapis.storageAccountUrl,
    STORAGE_ACCOUNT: DEV_STORAGE.accountName,
    STORAGE_KEY: DEV_STORAGE.accountKey,
    OTHER_ACCOUNT: OTHER.name,
    OTHER_KEY: OTHER.key,
    RUN_ID: randomUUID().slice(0, 8),
  };
}

test('the URLs are Azure-shaped, and the CA is in the data directory with its key private', () => {
  assert.match(server.lapis.batchUrl, /^https:\/\/lapis\.local\.batch\.azure\.com:\d+$/);
  assert.match(server.lapis.storageAccountUrl, /^https:\/\/devstoreaccount1\.blob\.core\.windows\.net:\d+$/);
  const ca = server.lapis.certificateAuthority as string;
  assert.equal(ca, path.join(fs.realpathSync(server.dataDir), 'tls', 'ca.pem'));
  assert.equal(fs.statSync(path.join(path.dirname(ca), 'ca-key.pem')).mode & 0o777, 0o600);
  const certificate = execFileSync('openssl', ['x509', '-in', path.join(path.dirname(ca), 'server.pem'), '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' });
  for (const name of ['lapis.local.batch.azure.com', 'other.local.batch.azure.com', 'devstoreaccount1.blob.core.windows.net']) assert.match(certificate, new RegExp(`DNS:${name.replaceAll('.', '\\.')}`));
});

test('@azure/batch and @azure/storage-blob run a pool, a job and a task with blob input and output on the Azure names', async () => {
  const result = await run(process.execPath, ['--import', 'tsx', '--import', RESOLVER, NODE_CLIENT], {
    ...clientEnv(),
    NODE_EXTRA_CA_CERTS: server.lapis.certificateAuthority as string,
  });
  assert.equal(result.code, 0, result.stderr);
  const seen = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.deepEqual(seen, {
    batchHost: 'lapis.local.batch.azure.com',
    taskState: 'completed',
    exitCode: 0,
    output: 'FROM BLOB.CORE.WINDOWS.NET',
    otherAccount: 'AuthenticationFailed',
  });
});

test('a client that does not trust the local CA is refused the connection', async () => {
  const result = await run(process.execPath, ['--import', 'tsx', '--import', RESOLVER, NODE_CLIENT], clientEnv());
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /certificate/i);
});

test('a Snakemake-shaped Python client: account from the host name, REQUESTS_CA_BUNDLE, a container pool, a tarred workflow, output to blob', { skip: snakemakeClientMissing(), timeout: 300_000 }, async () => {
  const result = await run(python as string, [SNAKEMAKE_CLIENT], {
    AZ_BATCH_ACCOUNT_URL: server.lapis.batchUrl,
    AZ_BATCH_ACCOUNT_KEY: server.account.key,
    BLOB_URL: server.lapis.storageAccountUrl,
    STORAGE_ACCOUNT: DEV_STORAGE.accountName,
    STORAGE_KEY: DEV_STORAGE.accountKey,
    CONTAINER_IMAGE: IMAGE,
    RUN_ID: randomUUID().slice(0, 8),
    REQUESTS_CA_BUNDLE: server.lapis.certificateAuthority as string,
    PYTHONPATH: PYTHON_RESOLVER,
  });
  assert.equal(result.code, 0, result.stderr);
  const seen = JSON.parse(result.stdout) as { account: string; taskState: string; result: string; exitCode: number; failure: string | null; stderr: string; output: string; poolsLeft: string[] };
  assert.equal(seen.account, 'lapis');
  assert.deepEqual({ taskState: seen.taskState, result: seen.result, exitCode: seen.exitCode, failure: seen.failure }, { taskState: 'completed', result: 'success', exitCode: 0, failure: null }, seen.stderr);
  // bash in the container expanded the task id; the single-quoted words stayed one argument.
  assert.match(seen.output, /^rule copy copy-[0-9a-f]{8} MADE BY THE WORKFLOW\n$/);
  assert.deepEqual(seen.poolsLeft, []);
});

test('az batch lists pools and adds a job on the Azure name, trusting the CA through REQUESTS_CA_BUNDLE', { skip: hasAz ? false : 'needs the az CLI (bash scripts/install-client-tools.sh)', timeout: 180_000 }, async () => {
  const jobId = `az-names-${randomUUID().slice(0, 8)}`;
  const az = (args: string[], trusted = true) =>
    run('az', [...args, '--account-name', server.account.name, '--account-key', server.account.key, '--account-endpoint', server.lapis.batchUrl, '--output', 'json'], {
      HOME: process.env.HOME ?? '/root',
      PYTHONPATH: PYTHON_RESOLVER,
      AZURE_CORE_COLLECT_TELEMETRY: 'false',
      ...(trusted ? { REQUESTS_CA_BUNDLE: server.lapis.certificateAuthority as string } : {}),
    });
  const added = await az(['batch', 'job', 'create', '--id', jobId, '--pool-id', 'no-such-pool']);
  assert.equal(added.code, 0, added.stderr);
  const jobs = await az(['batch', 'job', 'list']);
  assert.equal(jobs.code, 0, jobs.stderr);
  assert.ok((JSON.parse(jobs.stdout) as { id: string }[]).some((job) => job.id === jobId), jobs.stdout);
  const untrusted = await az(['batch', 'job', 'list'], false);
  assert.notEqual(untrusted.code, 0);
  assert.match(untrusted.stderr, /certificate/i);
});
