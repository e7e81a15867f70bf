// What the dashboard's task page masks (src/ui/format.ts): the values of
// environment variables whose names say they hold a secret, and the secret
// query values of resource and output file URLs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MASK, maskedUrl, maskedValue } from '../../src/ui/format.js';

test('secret-named environment variables are masked, others shown', () => {
  for (const name of ['API_KEY', 'db_password', 'GITHUB_TOKEN', 'ClientSecret', 'STORAGE_SAS', 'AZURE_STORAGE_CONNECTION_STRING', 'AUTH_HEADER', 'MY_PWD', 'credentials']) {
    assert.equal(maskedValue(name, 'hunter2'), MASK, name);
  }
  for (const name of ['GREETING', 'PATH', 'INPUT_FILE', 'THREADS']) assert.equal(maskedValue(name, 'visible'), 'visible', name);
});

test("a URL's SAS signature and secret-named query values are masked; the rest of it is kept", () => {
  const url = 'https://acct.blob.core.windows.net/c/in.txt?sv=2022-11-02&se=2026-12-06&sr=b&sp=r&sig=abc%2Bdef%3D';
  assert.equal(maskedUrl(url), `https://acct.blob.core.windows.net/c/in.txt?sv=2022-11-02&se=2026-12-06&sr=b&sp=r&sig=${MASK}`);
  assert.equal(maskedUrl('https://example.com/x?token=t1&key=k1&password=p1&page=2'), `https://example.com/x?token=${MASK}&key=${MASK}&password=${MASK}&page=2`);
  assert.equal(maskedUrl(undefined), '');
});
