// Lapis's configuration: one typed schema. Values come from the defaults,
// then LAPIS_* environment variables, then command-line flags (cli/).

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
  /** OS user non-admin tasks run as when Lapis runs as root. */
  taskUser: string;
  /** The shortest autoscale evaluation interval accepted, an ISO-8601 duration (Azure: PT5M). */
  autoScaleMinInterval: string;
  /** How long a node's agent may stay silent before its node is marked unknown and restarted, an ISO-8601 duration. */
  nodeHeartbeatTimeout: string;
  /** How long a client has to send a whole request (headers and body), an ISO-8601 duration; a stalled request is answered 408 and closed. */
  requestTimeout: string;
  tls?: { certFile: string; keyFile: string };
}

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
    taskUser: 'nobody',
    autoScaleMinInterval: 'PT5M',
    nodeHeartbeatTimeout: 'PT5S',
    requestTimeout: 'PT30S',
  };
}

/** Parses `name1:key1;name2:key2` (LAPIS_ACCOUNTS) or a single `name:key` (--account). */
export function parseAccounts(text: string): AccountConfig[] {
  return text
    .split(';')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const colon = entry.indexOf(':');
      const name = colon < 0 ? '' : entry.slice(0, colon).trim();
      const key = colon < 0 ? '' : entry.slice(colon + 1).trim();
      if (!/^[a-z0-9]{3,24}$/i.test(name)) throw new Error(`Invalid account '${name}': use 3 to 24 letters and digits, as Batch does.`);
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, 'base64').length < 16) {
        throw new Error(`Invalid key for account '${name}': use a base64 key of at least 16 bytes.`);
      }
      return { name: name.toLowerCase(), key };
    });
}

function integer(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number, got '${text}'.`);
  return value;
}

export function applyEnvironment(config: LapisConfig, env: NodeJS.ProcessEnv = process.env): LapisConfig {
  const next = { ...config, blob: { ...config.blob } };
  if (env.LAPIS_HOST) next.host = env.LAPIS_HOST;
  if (env.LAPIS_PORT) next.port = integer(env.LAPIS_PORT, 'LAPIS_PORT');
  if (env.LAPIS_BLOB_PORT) next.blob.port = integer(env.LAPIS_BLOB_PORT, 'LAPIS_BLOB_PORT');
  if (env.LAPIS_DATA) next.dataDir = env.LAPIS_DATA;
  if (env.LAPIS_ACCOUNTS) next.accounts = parseAccounts(env.LAPIS_ACCOUNTS);
  if (env.LAPIS_LOG_LEVEL) next.logLevel = env.LAPIS_LOG_LEVEL;
  if (env.LAPIS_TASK_USER) next.taskUser = env.LAPIS_TASK_USER;
  if (env.LAPIS_AUTOSCALE_MIN_INTERVAL) next.autoScaleMinInterval = env.LAPIS_AUTOSCALE_MIN_INTERVAL;
  if (env.LAPIS_NODE_HEARTBEAT_TIMEOUT) next.nodeHeartbeatTimeout = env.LAPIS_NODE_HEARTBEAT_TIMEOUT;
  if (env.LAPIS_REQUEST_TIMEOUT) next.requestTimeout = env.LAPIS_REQUEST_TIMEOUT;
  return next;
}

export function parsePort(text: string, name: string): number {
  return integer(text, name);
}

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;
