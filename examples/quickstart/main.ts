// `npm run quickstart`: runs the quickstart against a running Lapis (or Azure)
// when BATCH_URL, BATCH_ACCOUNT, BATCH_KEY, BLOB_URL, STORAGE_ACCOUNT and
// STORAGE_KEY are set; otherwise starts an embedded Lapis on free ports with
// a fresh temporary data directory and stops it at the end.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../../src/config/config.js';
import { startLapis } from '../../src/server/lapis-server.js';
import { runQuickstart, type QuickstartSettings } from './quickstart.js';

async function main(): Promise<number> {
  const env = process.env;
  if (env.BATCH_URL) {
    const missing = ['BATCH_ACCOUNT', 'BATCH_KEY', 'BLOB_URL', 'STORAGE_ACCOUNT', 'STORAGE_KEY'].filter((name) => !env[name]);
    if (missing.length > 0) {
      console.error(`Set ${missing.join(', ')} as well as BATCH_URL.`);
      return 2;
    }
    const settings: QuickstartSettings = {
      batchUrl: env.BATCH_URL,
      batchAccount: env.BATCH_ACCOUNT as string,
      batchKey: env.BATCH_KEY as string,
      blobUrl: env.BLOB_URL as string,
      storageAccount: env.STORAGE_ACCOUNT as string,
      storageKey: env.STORAGE_KEY as string,
    };
    return (await runQuickstart(settings)) ? 0 : 1;
  }

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-quickstart-'));
  const config = { ...defaultConfig(), port: 0, blob: { ...defaultConfig().blob, port: 0 }, dataDir, logLevel: 'warn' };
  const lapis = await startLapis(config);
  try {
    const account = config.accounts[0]!;
    const ok = await runQuickstart({
      batchUrl: lapis.batchUrl,
      batchAccount: account.name,
      batchKey: account.key,
      blobUrl: lapis.storageAccountUrl,
      storageAccount: config.blob.accountName,
      storageKey: config.blob.accountKey,
    });
    return ok ? 0 : 1;
  } finally {
    await lapis.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
