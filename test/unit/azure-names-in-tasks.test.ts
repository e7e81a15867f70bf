// What a node's runs get with --azure-hostnames (agent/azure-names-in-tasks.ts):
// the CA and its bundle written into the node without following a link a
// task could have left, the trust variables, and a container run's hosts.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { test } from 'node:test';
import { containerHosts, installTrustedCa, trustVariables } from '../../src/agent/azure-names-in-tasks.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBlocal\n-----END CERTIFICATE-----\n';

test('the CA and a bundle of it with the public roots go into <root>/lapis, readable, replacing links rather than writing through them', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-trust-'));
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-elsewhere-'));
  try {
    fs.symlinkSync(elsewhere, path.join(root, 'lapis'));
    await installTrustedCa(root, CA);
    assert.equal(fs.lstatSync(path.join(root, 'lapis')).isDirectory(), true);
    assert.deepEqual(fs.readdirSync(elsewhere), []);
    fs.rmSync(path.join(root, 'lapis', 'ca.pem'));
    fs.symlinkSync(path.join(elsewhere, 'planted'), path.join(root, 'lapis', 'ca.pem'));
    await installTrustedCa(root, CA);
    assert.deepEqual(fs.readdirSync(elsewhere), []);
    const variables = trustVariables(root);
    assert.equal(fs.readFileSync(variables.NODE_EXTRA_CA_CERTS as string, 'utf8'), CA);
    const bundle = fs.readFileSync(variables.REQUESTS_CA_BUNDLE as string, 'utf8');
    assert.ok(bundle.includes(CA.trim()));
    assert.ok(bundle.includes(tls.rootCertificates[0] as string));
    assert.equal(fs.statSync(path.join(root, 'lapis')).mode & 0o777, 0o755);
    assert.equal(fs.statSync(variables.REQUESTS_CA_BUNDLE as string).mode & 0o777, 0o644);
    assert.deepEqual(variables, {
      REQUESTS_CA_BUNDLE: `${root}/lapis/ca-bundle.pem`,
      SSL_CERT_FILE: `${root}/lapis/ca-bundle.pem`,
      CURL_CA_BUNDLE: `${root}/lapis/ca-bundle.pem`,
      NODE_EXTRA_CA_CERTS: `${root}/lapis/ca.pem`,
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(elsewhere, { recursive: true, force: true });
  }
});

test("a container run's hosts: its account's Batch name at the Batch address, the blob name at the blob address", () => {
  const names = { caCertificate: CA, batchAddress: '127.0.0.1', blob: { name: 'devstoreaccount1.blob.core.windows.net', address: '127.0.0.2' } };
  assert.deepEqual(containerHosts(names, 'https://other.local.batch.azure.com:8443'), [
    { name: 'other.local.batch.azure.com', address: '127.0.0.1' },
    { name: 'devstoreaccount1.blob.core.windows.net', address: '127.0.0.2' },
  ]);
  // An external blob endpoint: no blob name is Lapis's.
  assert.deepEqual(containerHosts({ caCertificate: CA, batchAddress: '::1' }, 'https://lapis.local.batch.azure.com'), [{ name: 'lapis.local.batch.azure.com', address: '::1' }]);
});
