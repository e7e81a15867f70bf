// What `lapis app add` and `lapis app remove` check before writing: that
// --data names a data directory a server has used (a store is there), so a
// forgotten --data does not quietly make a new `.lapis` the server never
// reads, and that the account is one the server serves, read from the same
// settings as `lapis serve` (--accounts-file, LAPIS_ACCOUNTS_FILE,
// LAPIS_ACCOUNTS, else the development account).

import fs from 'node:fs';
import path from 'node:path';
import { resolveSettings } from '../config/config.js';

export function checkStoreExists(dataDir: string): void {
  const store = path.join(path.resolve(dataDir), 'lapis.db');
  if (fs.existsSync(store)) return;
  throw new Error(
    `${path.resolve(dataDir)} holds no Lapis store (lapis.db): give the data directory of your server with --data <dir> (or LAPIS_DATA), or start \`lapis serve --data ${dataDir}\` once to make one.`,
  );
}

export function checkKnownAccount(account: string, accountsFile: string | undefined): void {
  const accounts = resolveSettings(process.env, { '--accounts-file': accountsFile }).config.accounts;
  if (accounts.some((known) => known.name === account.toLowerCase())) return;
  throw new Error(
    `The account '${account}' is not one the server serves (${accounts.map((known) => known.name).join(', ')}): ` +
      'give one of those with --account, or the accounts of your server as `lapis serve` reads them (--accounts-file, LAPIS_ACCOUNTS_FILE or LAPIS_ACCOUNTS).',
  );
}
