// --azure-hostnames: a client written for Azure reaches Lapis on Azure's URL
// shapes, https://<account>.<region>.batch.azure.com:<port> and
// https://<storage>.blob.core.windows.net:<port>, trusting the local CA Lapis
// keeps in its data directory. The names resolve to 127.0.0.1 inside the
// client processes alone (a resolver override), never through the machine's
// /etc/hosts. Judged by @azure/batch and @azure/storage-blob here, and by
// Python azure-batch and azure-storage-blob in a Snakemake-shaped client.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DEV_STORAGE } from '../../src/config/config.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

const OTHER = { name: 'other', key: Buffer.alloc(64, 7).toString('base64') };
const NODE_CLIENT = path.resolve('test/fixtures/azure-hostnames-client.ts');
const RESOLVER = path.resolve('test/fixtures/resolve-azure-names.ts');
let server: TestServer;

before(async () => {
  server = await startTestServer({
    config: { azureHostnames: true, accounts: [{ name: 'lapis', key: 'C9WMEdF0k+FTrCkiGkIntEquano5g9OmrrkTiTWVamSJS8etrxIb9NbIpG+QoYEigw/5jYhVmvgHyAsOM2bueg==' }, OTHER] },
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
