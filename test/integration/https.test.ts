// --cert / --key serve the Batch and blob endpoints over HTTPS, and the
// official SDKs work over it when the certificate is trusted through
// NODE_EXTRA_CA_CERTS — and refuse it when it is not.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DEV_STORAGE } from '../../src/config/config.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

const CLIENT = path.resolve('test/fixtures/tls-client.ts');
let server: TestServer;
let directory: string;
let certFile: string;

before(async () => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-tls-'));
  certFile = path.join(directory, 'cert.pem');
  const keyFile = path.join(directory, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  server = await startTestServer({ config: { tls: { certFile, keyFile } } });
});

after(async () => {
  await server?.stop();
  fs.rmSync(directory, { recursive: true, force: true });
});

function runClient(extraEnv: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLIENT], {
      env: {
        PATH: process.env.PATH ?? '',
        BATCH_URL: server.lapis.batchUrl,
        BATCH_ACCOUNT: server.account.name,
        BATCH_KEY: server.account.key,
        BLOB_URL: server.lapis.storageAccountUrl,
        STORAGE_ACCOUNT: DEV_STORAGE.accountName,
        STORAGE_KEY: DEV_STORAGE.accountKey,
        ...extraEnv,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('both endpoints speak HTTPS and the SDKs trust them through NODE_EXTRA_CA_CERTS', async () => {
  assert.match(server.lapis.batchUrl, /^https:\/\//);
  assert.match(server.lapis.storageAccountUrl, /^https:\/\//);
  const trusted = await runClient({ NODE_EXTRA_CA_CERTS: certFile });
  assert.equal(trusted.code, 0, trusted.stderr);
  const seen = JSON.parse(trusted.stdout) as { pools: string[]; blobs: string[] };
  assert.deepEqual(seen.blobs, ['hello.txt']);
  assert.deepEqual(seen.pools, []);
});

test('without the certificate trusted, the SDK refuses the connection', async () => {
  const untrusted = await runClient({});
  assert.notEqual(untrusted.code, 0);
  assert.match(untrusted.stderr, /certificate|self[- ]signed/i);
});

test("the dashboard is HTTPS with the API, and its session cookie is Secure there", async () => {
  const link = new URL(server.lapis.dashboardSignInLink(server.account.name) as string);
  assert.equal(link.protocol, 'https:');
  const cookie = await new Promise<string>((resolve, reject) => {
    https
      .get(link, { ca: fs.readFileSync(certFile) }, (response) => {
        response.resume();
        resolve(String(response.headers['set-cookie'] ?? ''));
      })
      .on('error', reject);
  });
  assert.match(cookie, /^lapis_session=.*; HttpOnly; SameSite=Strict; .*; Secure$/);
});
