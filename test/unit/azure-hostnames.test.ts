import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostsLines } from '../../src/cli/azure-commands.js';
import { defaultConfig } from '../../src/config/config.js';
import { accountOfBatchHost, readdressBlobUrl } from '../../src/core/azure-hostnames.js';

test('the Batch account is the first label of a <account>.<region>.batch.azure.com host, with or without a port', () => {
  assert.equal(accountOfBatchHost('lapis.local.batch.azure.com'), 'lapis');
  assert.equal(accountOfBatchHost('Alpha.WestEurope.Batch.Azure.Com:8443'), 'alpha');
  assert.equal(accountOfBatchHost('127.0.0.1:10100'), undefined);
  assert.equal(accountOfBatchHost('batch.azure.com'), undefined);
  assert.equal(accountOfBatchHost('a.b.c.batch.azure.com'), undefined);
  assert.equal(accountOfBatchHost('.local.batch.azure.com'), undefined);
  assert.equal(accountOfBatchHost(undefined), undefined);
});

test("Lapis's storage account's Azure URLs are readdressed to the blob endpoint, path-style; others are left alone", () => {
  const endpoint = 'https://127.0.0.1:10000';
  assert.equal(
    readdressBlobUrl('https://devstoreaccount1.blob.core.windows.net:8443/c/a%20b.txt?sv=1&sig=x', 'devstoreaccount1', endpoint),
    'https://127.0.0.1:10000/devstoreaccount1/c/a%20b.txt?sv=1&sig=x',
  );
  assert.equal(readdressBlobUrl('https://DevStoreAccount1.blob.core.windows.net/c?sig=x', 'devstoreaccount1', `${endpoint}/`), 'https://127.0.0.1:10000/devstoreaccount1/c?sig=x');
  for (const other of ['https://someone.blob.core.windows.net/c?sig=x', 'http://devstoreaccount1.blob.core.windows.net/c', 'https://example.com/f', 'not a url']) {
    assert.equal(readdressBlobUrl(other, 'devstoreaccount1', endpoint), other);
  }
});

test('lapis hosts: the Batch names at --host, the blob name at --blob-host, a wildcard address as loopback', () => {
  const config = { ...defaultConfig(), accounts: [{ name: 'Alpha', key: 'a2V5' }, { name: 'beta', key: 'a2V5' }], azureRegion: 'westeurope' };
  assert.deepEqual(hostsLines(config), ['127.0.0.1 alpha.westeurope.batch.azure.com beta.westeurope.batch.azure.com devstoreaccount1.blob.core.windows.net']);
  assert.deepEqual(hostsLines({ ...config, host: '0.0.0.0', blob: { ...config.blob, host: '127.0.0.2' } }), [
    '127.0.0.1 alpha.westeurope.batch.azure.com beta.westeurope.batch.azure.com',
    '127.0.0.2 devstoreaccount1.blob.core.windows.net',
  ]);
});
