// Lapis's configuration: one typed schema. Values come from the defaults,
// then LAPIS_* environment variables, then command-line flags (cli/).
//
// Account keys are secrets that tasks on this host must never read. A
// process's command line (/proc/<pid>/cmdline) is readable by every user, so
// the safe ways to give keys are, in order: an accounts file (--accounts-file
// or LAPIS_ACCOUNTS_FILE, mode 0600, owned by the user running Lapis), then
// the environment (LAPIS_ACCOUNTS, removed from process.env once read, see
// scrubSecretEnvironment). `--account NAME:KEY` still works but warns.

import fs from 'node:fs';

export interface AccountConfig {
  name: string;
  /** Base64, as Batch account keys are. */
  key: string;
}

export interface LapisConfig {
  host: string;
  port: number;
  blob: {
    /** Port of the embedded blob endpoint; ignored with an external endpoint. */
    port: number;
    /** An external Azure-compatible blob endpoint instead of the embedded one. */
    externalEndpoint?: string;
    accountName: string;
    accountKey: string;
  };
  /** Data directory for the store, blobs and node directories; undefined with inMemory. */
  dataDir?: string;
  inMemory: boolean;
  accounts: AccountConfig[];
  logLevel: string;
  /** The shortest autoscale evaluation interval accepted, an ISO-8601 duration (Azure: PT5M). */
  autoScaleMinInterval: string;
  /** How long a node's agent may stay silent before its node is marked unknown and restarted, an ISO-8601 duration. */
  nodeHeartbeatTimeout: string;
  /** How long a client has to send a whole request (headers and body), an ISO-8601 duration; a stalled request is answered 408 and closed. */
  requestTimeout: string;
  tls?: { certFile: string; keyFile: string };
  /**
   * Whether requests may run code as admin (an autoUser or pool user with
   * elevationLevel admin), which on local process nodes is root on this host.
   * `refuse` answers such requests with InvalidPropertyValue.
   */
  adminTasks: AdminTasksSetting;
}

export type AdminTasksSetting = 'allow' | 'refuse';

/** The environment variables that hold secrets: read once, then removed from process.env (scrubSecretEnvironment). */
export const SECRET_ENVIRONMENT = ['LAPIS_ACCOUNTS', 'LAPIS_STORAGE_KEY'] as const;

/** The well-known development account, printed at start like Azurite's devstoreaccount1. */
export const DEV_ACCOUNT: AccountConfig = {
  name: 'lapis',
  key: 'C9WMEdF0k+FTrCkiGkIntEquano5g9OmrrkTiTWVamSJS8etrxIb9NbIpG+QoYEigw/5jYhVmvgHyAsOM2bueg==',
};

export const DEV_STORAGE = {
  accountName: 'devstoreaccount1',
  accountKey: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
};

export function defaultConfig(): LapisConfig {
  return {
    host: '127.0.0.1',
    port: 10100,
    blob: { port: 10000, accountName: DEV_STORAGE.accountName, accountKey: DEV_STORAGE.accountKey },
    dataDir: '.lapis',
    inMemory: false,
    accounts: [DEV_ACCOUNT],
    logLevel: 'info',
    autoScaleMinInterval: 'PT5M',
    nodeHeartbeatTimeout: 'PT5S',
    requestTimeout: 'PT30S',
    adminTasks: 'allow',
  };
}

export function parseAdminTasks(text: string, name: string): AdminTasksSetting {
  const value = text.trim().toLowerCase();
  if (value !== 'allow' && value !== 'refuse') throw new Error(`${name} must be 'allow' or 'refuse', not '${text}'.`);
  return value;
}

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

function withoutDuplicates(accounts: AccountConfig[], source: string): AccountConfig[] {
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

/** Removes the secret LAPIS_* variables from `env` once read, so no child process inherits them. */
export function scrubSecretEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of SECRET_ENVIRONMENT) delete env[name];
}

function integer(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number, got '${text}'.`);
  return value;
}

/** The accounts given on the command line: --accounts-file, or (unsafe beside tasks) --account; undefined when neither. */
export function accountsFromFlags(accountsFile: string | undefined, accountFlags: string[]): AccountConfig[] | undefined {
  if (accountsFile !== undefined && accountFlags.length > 0) throw new Error('Give the accounts one way: --accounts-file or --account, not both.');
  if (accountsFile !== undefined) return readAccountsFile(accountsFile);
  if (accountFlags.length > 0) return withoutDuplicates(accountFlags.flatMap((flag) => parseAccounts(flag)), '--account');
  return undefined;
}

export function applyEnvironment(config: LapisConfig, env: NodeJS.ProcessEnv = process.env): LapisConfig {
  const next = { ...config, blob: { ...config.blob } };
  if (env.LAPIS_HOST) next.host = env.LAPIS_HOST;
  if (env.LAPIS_PORT) next.port = integer(env.LAPIS_PORT, 'LAPIS_PORT');
  if (env.LAPIS_BLOB_PORT) next.blob.port = integer(env.LAPIS_BLOB_PORT, 'LAPIS_BLOB_PORT');
  if (env.LAPIS_DATA) next.dataDir = env.LAPIS_DATA;
  if (env.LAPIS_ACCOUNTS && env.LAPIS_ACCOUNTS_FILE) throw new Error('Give the accounts one way: LAPIS_ACCOUNTS_FILE or LAPIS_ACCOUNTS, not both.');
  if (env.LAPIS_ACCOUNTS_FILE) next.accounts = readAccountsFile(env.LAPIS_ACCOUNTS_FILE);
  if (env.LAPIS_ACCOUNTS) next.accounts = withoutDuplicates(parseAccounts(env.LAPIS_ACCOUNTS), 'LAPIS_ACCOUNTS');
  if (env.LAPIS_STORAGE_ACCOUNT) next.blob.accountName = env.LAPIS_STORAGE_ACCOUNT;
  if (env.LAPIS_STORAGE_KEY) next.blob.accountKey = env.LAPIS_STORAGE_KEY;
  if (env.LAPIS_ADMIN_TASKS) next.adminTasks = parseAdminTasks(env.LAPIS_ADMIN_TASKS, 'LAPIS_ADMIN_TASKS');
  if (env.LAPIS_LOG_LEVEL) next.logLevel = env.LAPIS_LOG_LEVEL;
  if (env.LAPIS_AUTOSCALE_MIN_INTERVAL) next.autoScaleMinInterval = env.LAPIS_AUTOSCALE_MIN_INTERVAL;
  if (env.LAPIS_NODE_HEARTBEAT_TIMEOUT) next.nodeHeartbeatTimeout = env.LAPIS_NODE_HEARTBEAT_TIMEOUT;
  if (env.LAPIS_REQUEST_TIMEOUT) next.requestTimeout = env.LAPIS_REQUEST_TIMEOUT;
  return next;
}

export function parsePort(text: string, name: string): number {
  return integer(text, name);
}

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;
