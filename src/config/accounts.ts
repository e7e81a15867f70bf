// Batch accounts and their keys: `name:key` entries, from an accounts file,
// LAPIS_ACCOUNTS or --account (settings-table.ts says which is which).
//
// Account keys are secrets that tasks on this host must never read. A
// process's command line (/proc/<pid>/cmdline) is readable by every user, so
// the safe ways to give keys are, in order: an accounts file (--accounts-file
// or LAPIS_ACCOUNTS_FILE, mode 0600, owned by the user running Lapis), then
// the environment (LAPIS_ACCOUNTS, removed from process.env once read, see
// scrubSecretEnvironment). `--account NAME:KEY` still works but warns.

import fs from 'node:fs';
import type { AccountConfig } from './lapis-config.js';

/** One `name:key` entry; errors name the account but never echo the key. */
function parseAccount(entry: string, where = ''): AccountConfig {
  const colon = entry.indexOf(':');
  const name = colon < 0 ? '' : entry.slice(0, colon).trim();
  const key = colon < 0 ? '' : entry.slice(colon + 1).trim();
  if (!/^[a-z0-9]{3,24}$/i.test(name)) throw new Error(`Invalid account '${name}'${where}: use 3 to 24 letters and digits, as Batch does.`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, 'base64').length < 16) {
    throw new Error(`Invalid key for account '${name}'${where}: use a base64 key of at least 16 bytes.`);
  }
  return { name: name.toLowerCase(), key };
}

export function withoutDuplicates(accounts: AccountConfig[], source: string): AccountConfig[] {
  const seen = new Set<string>();
  for (const account of accounts) {
    if (seen.has(account.name)) throw new Error(`The account '${account.name}' is given twice in ${source}.`);
    seen.add(account.name);
  }
  return accounts;
}

/** Parses `name1:key1;name2:key2` (LAPIS_ACCOUNTS) or a single `name:key` (--account). */
export function parseAccounts(text: string): AccountConfig[] {
  return text
    .split(';')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => parseAccount(entry));
}

/**
 * Parses an accounts file: one `name:key` per line; blank lines and lines
 * starting with `#` are ignored. Errors name the file and line, never a key.
 */
export function parseAccountsFile(text: string, file: string): AccountConfig[] {
  const accounts: AccountConfig[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = ` in ${file} line ${index + 1}`;
    if (line.includes(';')) throw new Error(`One account per line${where}: 'name:key', without ';'.`);
    accounts.push(parseAccount(line, where));
  });
  if (accounts.length === 0) throw new Error(`The accounts file ${file} names no account: write one 'name:key' per line.`);
  return withoutDuplicates(accounts, file);
}

/**
 * Reads an accounts file, refusing one that other users could read or
 * change: it must belong to the user running Lapis and have no group or
 * other permission bits (0600 or stricter).
 */
export function readAccountsFile(file: string): AccountConfig[] {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY);
  } catch (error) {
    throw new Error(`Cannot read the accounts file ${file}: ${(error as Error).message}`);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Error(`The accounts file ${file} is not a regular file.`);
    const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
    if (uid !== undefined && stat.uid !== uid) {
      throw new Error(`The accounts file ${file} belongs to uid ${stat.uid}, not to the user running lapis (uid ${uid}): chown it to that user.`);
    }
    const mode = stat.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(
        `The accounts file ${file} has mode ${mode.toString(8).padStart(4, '0')}: other users could read or change the keys. Make it 0600 (chmod 600 ${file}).`,
      );
    }
    return parseAccountsFile(fs.readFileSync(fd, 'utf8'), file);
  } finally {
    fs.closeSync(fd);
  }
}
