import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { INPUT_FILES, runQuickstart } from '../../examples/quickstart/quickstart.js';
import { DEV_STORAGE } from '../../src/config/config.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

test('the quickstart runs end to end through @azure/batch and @azure/storage-blob', async () => {
  const lines: string[] = [];
  const ok = await runQuickstart({
    batchUrl: server.lapis.batchUrl,
    batchAccount: server.account.name,
    batchKey: server.account.key,
    blobUrl: server.lapis.storageAccountUrl,
    storageAccount: DEV_STORAGE.accountName,
    storageKey: DEV_STORAGE.accountKey,
    log: (line) => lines.push(line),
  });
  assert.equal(ok, true, lines.join('\n'));
  const output = lines.join('\n');
  for (const text of Object.values(INPUT_FILES)) assert.ok(output.includes(text.trimEnd()), `missing output ${text}`);
  for (const index of [0, 1, 2]) assert.ok(lines.includes(`Task: Task${index}`));
  assert.ok(lines.some((line) => /^Node: tvmps_[0-9a-f]{64}_d$/.test(line)));
  assert.ok(lines.includes('Creating pool [QuickstartPool]...'));
  assert.ok(lines.some((line) => line.startsWith('Elapsed time: ')));

  // The quickstart cleans up after itself: the job and pool are being deleted.
  const pools = await server.batch.pool.list();
  assert.ok(pools.every((pool) => pool.id !== 'QuickstartPool' || pool.state === 'deleting'));
});
