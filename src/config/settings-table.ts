// Every setting of `lapis serve`, once: its place in the configuration, its
// flag, its LAPIS_* environment variable, its default, the parser that turns
// text into the typed value, its help text and whether it is secret. The
// command line (`lapis serve --help`), the environment reading, the server's
// defaults (defaultConfig) and README.md's flag table (`npm run docs:config`,
// checked by test/unit/config-table.test.ts) are all made from this table.
//
// Precedence: defaults, then the environment, then flags (flags win).

import { parseDuration } from '../core/time.js';
import { parseAccounts, readAccountsFile, withoutDuplicates } from './accounts.js';
import { DEV_ACCOUNT, DEV_STORAGE, type AdminTasksSetting, type LapisConfig, type ProcessSettings } from './lapis-config.js';

/** What the table fills: the server's configuration and the serve process's own settings. */
export type Settings = LapisConfig & ProcessSettings;

type Nested<K extends keyof Settings> =
  NonNullable<Settings[K]> extends readonly unknown[] ? never : NonNullable<Settings[K]> extends object ? `${K}.${keyof NonNullable<Settings[K]> & string}` : never;

/** A place in Settings: `port`, `blob.port`, `tls.certFile`… */
export type SettingKey = { [K in keyof Settings]-?: K | Nested<K> }[keyof Settings];

/** The type of the value at a SettingKey. */
export type ValueAt<P extends SettingKey> = P extends `${infer A}.${infer B}`
  ? A extends keyof Settings
    ? B extends keyof NonNullable<Settings[A]>
      ? NonNullable<Settings[A]>[B]
      : never
    : never
  : P extends keyof Settings
    ? NonNullable<Settings[P]>
    : never;

interface SettingBase {
  /** `--name <value>`, or `--name` alone for a switch (whose value is `true`). */
  flag?: string;
  /** The LAPIS_* environment variable; read when set and not empty. */
  env?: string;
  /** The default, as text, parsed like a given value. */
  default?: string;
  /** How the default reads in --help and README.md when it is not the text itself (a secret's, or none). */
  defaultText?: string;
  /** One line for --help. */
  help: string;
  /** README.md's fuller text, when the help line is not enough. */
  details?: string;
  /** Never printed: not the default, not the value in an error, and its environment variable is removed once read. */
  secret?: boolean;
  /** The values the flag accepts, as --help lists them (the parser checks them too). */
  choices?: readonly string[];
  /** Settings of the same group give one value one way: two of them in one layer (flags, or the environment) are refused. */
  group?: string;
  /** Not in --help or README.md. */
  hidden?: boolean;
  /** Printed at start when the setting is given as a flag, or given at all. */
  warning?: { text: string; when: 'flag' | 'flag or env' };
}

export interface Setting<K extends SettingKey = SettingKey> extends SettingBase {
  key: K;
  /** Text to value; `source` is the flag or variable the text came from, which errors name. */
  parse(text: string, source: string): ValueAt<K>;
  /** A flag that may be given more than once: how its values combine. */
  repeatable?: (values: ValueAt<K>[], source: string) => ValueAt<K>;
}

/** A setting that is accepted and only warned of: it sets nothing. */
export interface RetiredSetting extends SettingBase {
  key: null;
}

export type AnySetting = { [K in SettingKey]-?: Setting<K> }[SettingKey] | RetiredSetting;

// --- parsers -----------------------------------------------------------------

const text = (value: string): string => value;

export function parsePort(value: string, source: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${source} must be a port number, got '${value}'.`);
  return port;
}

function parseSwitch(value: string, source: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`${source} is a switch: give it alone, without a value.`);
}

function parseRegion(value: string, source: string): string {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(value)) throw new Error(`${source} must be one host name label (letters, digits, '-'), got '${value}'.`);
  return value.toLowerCase();
}

export function parseAdminTasks(value: string, source: string): AdminTasksSetting {
  const policy = value.trim().toLowerCase();
  if (policy !== 'allow' && policy !== 'refuse') throw new Error(`${source} must be 'allow' or 'refuse', not '${value}'.`);
  return policy;
}

function oneOf<T extends string>(value: string, source: string, choices: readonly T[]): T {
  const choice = choices.find((candidate) => candidate === value.trim().toLowerCase());
  if (!choice) throw new Error(`${source} must be one of ${choices.join(', ')}, not '${value}'.`);
  return choice;
}

function parseNodeImage(value: string, source: string): string {
  if (!/^[^/=\s]+\/[^/=\s]+\/[^/=\s]+=\S+$/.test(value)) throw new Error(`${source} takes PUBLISHER/OFFER/SKU=IMAGE, not '${value}'.`);
  return value;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function parseLogLevel(value: string, source: string): string {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new Error(`${source} must be one of ${LOG_LEVELS.join(', ')}, not '${value}'.`);
  return value;
}

/** An ISO-8601 duration of at least `minMs`, in ms; `what` names it in the error, beside the flag or variable. */
function duration(what: string, minMs: number, least: string): (value: string, source: string) => number {
  return (value, source) => {
    const ms = parseDuration(value);
    if (ms === undefined || ms < minMs) throw new Error(`${what} must be an ISO-8601 duration of at least ${least}, not '${value}' (${source}).`);
    return ms;
  };
}

export function parseHeapGrowingPercent(value: string, source: string): number {
  const percent = Number(value);
  if (!/^\d+$/.test(value) || percent > 1000) throw new Error(`${source} must be a whole number from 0 to 1000, not '${value}'.`);
  return percent;
}

// --- the table -----------------------------------------------------------------

/** Builds one entry; the key fixes the type its parser must return. */
function setting<K extends SettingKey>(entry: Setting<K>): Setting<K> {
  return entry;
}

export const SETTINGS: readonly AnySetting[] = [
  setting({ key: 'host', flag: '--host <host>', env: 'LAPIS_HOST', default: '127.0.0.1', parse: text, help: 'address to listen on' }),
  setting({
    key: 'port',
    flag: '--port <port>',
    env: 'LAPIS_PORT',
    default: '10100',
    parse: parsePort,
    help: 'Batch REST port; 0 picks a free one (the ready output names it)',
    details: 'Batch REST port; `0` picks a free one, which the ready output (or `--ready-json`) names',
  }),
  setting({
    key: 'blob.port',
    flag: '--blob-port <port>',
    env: 'LAPIS_BLOB_PORT',
    default: '10000',
    parse: parsePort,
    help: "embedded blob endpoint port (Azurite's too: where Azurite runs, use --blob-endpoint or another port); 0 picks a free one",
    details: "embedded blob endpoint port; Azurite's default too, so where Azurite runs give another (`0` picks a free one) or use Azurite with `--blob-endpoint`",
  }),
  setting({
    key: 'blob.host',
    flag: '--blob-host <host>',
    env: 'LAPIS_BLOB_HOST',
    defaultText: 'the `--host`',
    parse: text,
    help: 'address the embedded blob endpoint listens on (default: --host)',
    details:
      'address the embedded blob endpoint listens on; with `--azure-hostnames` on port 443 for both endpoints, give it another loopback address (`127.0.0.2`) than `--host`, and `lapis hosts` maps the blob names to it',
  }),
  setting({
    key: 'blob.externalEndpoint',
    flag: '--blob-endpoint <url>',
    defaultText: 'embedded',
    parse: text,
    help: 'use an external Azure-compatible blob endpoint instead of the embedded one',
  }),
  setting({
    key: 'blob.accountName',
    flag: '--storage-account <name>',
    env: 'LAPIS_STORAGE_ACCOUNT',
    default: DEV_STORAGE.accountName,
    parse: text,
    help: 'storage account name of the blob endpoint',
  }),
  setting({
    key: 'blob.accountKey',
    flag: '--storage-key <key>',
    env: 'LAPIS_STORAGE_KEY',
    default: DEV_STORAGE.accountKey,
    defaultText: 'the development key',
    secret: true,
    parse: text,
    help: 'storage account key of the blob endpoint. UNSAFE beside tasks: it shows in the process list; give it in the environment',
    details: 'storage account key of the blob endpoint; give it as env `LAPIS_STORAGE_KEY` (removed from Lapis\'s environment once read): `--storage-key` shows in the process list and warns',
    warning: {
      when: 'flag',
      text: '--storage-key puts the storage key on the command line, which every process on this host (tasks included) can read. Use env LAPIS_STORAGE_KEY instead.',
    },
  }),
  setting({ key: 'dataDir', flag: '--data <dir>', env: 'LAPIS_DATA', default: '.lapis', parse: text, help: 'data directory (store, blobs, node directories)' }),
  setting({
    key: 'nodesDir',
    flag: '--nodes-dir <dir>',
    env: 'LAPIS_NODES_DIR',
    defaultText: '<data>/nodes, or /var/lib/lapis/nodes/<digest>',
    parse: text,
    help: "compute nodes' directories (tasks' files); as root, other users must be able to pass through every directory above it",
    details:
      "compute nodes' directories (tasks' working, shared and startup directories). As root, tasks run as users of their own, who must pass through every directory above it: by default `<data>/nodes`, or, where `--data` is under a directory other users cannot pass (`/root`, a `mktemp -d`), `/var/lib/lapis/nodes/<digest of the data directory's path>`, the same on every start. One server per directory",
  }),
  setting({
    key: 'inMemory',
    flag: '--in-memory',
    default: 'false',
    defaultText: 'off',
    parse: parseSwitch,
    help: 'keep the store and blobs in memory; nothing survives a restart',
  }),
  setting({
    key: 'accounts',
    group: 'accounts',
    flag: '--accounts-file <file>',
    env: 'LAPIS_ACCOUNTS_FILE',
    defaultText: 'the dev account',
    parse: (file) => readAccountsFile(file),
    help: "the Batch accounts, one 'name:key' per line (# comments); mode 0600, owned by the user running lapis",
    details: 'the Batch accounts, one `name:key` per line (`#` comments); must be `0600` or stricter and owned by the user running Lapis',
  }),
  setting({
    key: 'accounts',
    group: 'accounts',
    env: 'LAPIS_ACCOUNTS',
    default: `${DEV_ACCOUNT.name}:${DEV_ACCOUNT.key}`,
    defaultText: 'the dev account',
    secret: true,
    parse: (value, source) => withoutDuplicates(parseAccounts(value), source),
    help: "the Batch accounts, 'n1:k1;n2:k2'",
    details: 'the Batch accounts, `n1:k1;n2:k2`, from the environment (removed from Lapis\'s environment once read)',
  }),
  setting({
    key: 'accounts',
    group: 'accounts',
    flag: '--account <name:key>',
    defaultText: 'the dev account',
    parse: (value) => parseAccounts(value),
    repeatable: (lists, source) => withoutDuplicates(lists.flat(), source),
    help: 'a Batch account (repeatable). UNSAFE beside tasks: the key shows in the process list; use --accounts-file or env LAPIS_ACCOUNTS',
    details: 'a Batch account (repeatable). **Unsafe beside tasks**: the key is in the process list, which tasks can read; Lapis warns at start. Use `--accounts-file`',
    warning: {
      when: 'flag',
      text:
        '--account puts account keys on the command line, which every process on this host (tasks included) can read in /proc/<pid>/cmdline. ' +
        'Use --accounts-file FILE (mode 0600) or env LAPIS_ACCOUNTS_FILE, or env LAPIS_ACCOUNTS, instead.',
    },
  }),
  setting({
    key: 'adminTasks',
    flag: '--admin-tasks <policy>',
    env: 'LAPIS_ADMIN_TASKS',
    default: 'allow',
    choices: ['allow', 'refuse'],
    parse: parseAdminTasks,
    help: 'allow or refuse tasks that run as admin (root on this host with local nodes)',
    details:
      '`refuse` answers `InvalidPropertyValue` to any request that would run code as admin (an admin auto user or pool user account in a task, start task, job manager, preparation or release task); on local nodes admin is root on the host',
  }),
  setting({
    key: 'faults',
    flag: '--faults',
    env: 'LAPIS_FAULTS',
    default: 'false',
    defaultText: 'off',
    parse: parseSwitch,
    help: 'serve the failure-injection API (/lapis/faults, lapis fault) for testing Batch applications',
    details:
      'serve `POST`/`GET /lapis/faults` and `DELETE /lapis/faults/{id}` (signed with an account\'s key, acting on that account only) and so `lapis fault`: make a node unusable, silence its heartbeats for a while, fail the next start tasks or task launches, delay node allocation; see [docs/testing-your-batch-app.md](docs/testing-your-batch-app.md). Off, `/lapis/faults` answers 404',

    warning: {
      when: 'flag or env',
      text: 'failure injection is on (--faults): any account holder can make its own nodes and tasks fail through /lapis/faults. Use it for testing only.',
    },
  }),
  setting({
    key: 'nodeRuntime',
    flag: '--node-runtime <kind>',
    env: 'LAPIS_NODE_RUNTIME',
    default: 'process',
    choices: ['process', 'container'],
    parse: (value, source) => oneOf(value, source, ['process', 'container'] as const),
    help: 'what a compute node is: agent processes on this host, or a container each (Podman or Docker)',
    details:
      '`process`: each node is an agent process on this host (needs nothing but Node.js); `container`: each node is a container of its own, from the image its pool\'s `imageReference` maps to (see `--node-image`), with its own hostname, processes, `/tmp` and packages',
  }),
  setting({
    key: 'nodeImages',
    flag: '--node-image <reference=image>',
    defaultText: 'Ubuntu 20.04/22.04/24.04, Debian 11/12',
    parse: (value, source) => [parseNodeImage(value, source)],
    repeatable: (lists) => lists.flat(),
    help: "container nodes: the image a pool's PUBLISHER/OFFER/SKU runs on (repeatable)",
    details:
      "container nodes: the image a pool's `imageReference` runs on, as `PUBLISHER/OFFER/SKU=IMAGE` (repeatable), over the built-in table (`canonical/0001-com-ubuntu-server-jammy/22_04-lts` → `ubuntu:22.04`, …)",
  }),
  setting({
    key: 'containerEngine',
    flag: '--container-engine <engine>',
    env: 'LAPIS_CONTAINER_ENGINE',
    defaultText: 'podman if installed, else docker',
    choices: ['podman', 'docker'],
    parse: (value, source) => oneOf(value, source, ['podman', 'docker'] as const),
    help: 'the engine that runs container nodes and container tasks',
  }),
  setting({
    key: 'dockerHost',
    flag: '--docker-host <url>',
    env: 'LAPIS_DOCKER_HOST',
    defaultText: "Docker's default",
    parse: text,
    help: "Docker's daemon socket (docker -H), e.g. unix:///run/my-dockerd.sock; only when the engine is Docker",
    details:
      "the Docker daemon Lapis talks to, as `docker -H` takes it (`unix:///run/my-dockerd.sock`), for a daemon not at Docker's default socket; only when the engine is Docker. Lapis starts the engine with nothing but a PATH in its environment, so `DOCKER_HOST` in the server's environment does not reach it",
  }),
  setting({
    key: 'containers',
    flag: '--containers <mode>',
    env: 'LAPIS_CONTAINERS',
    default: 'engine',
    choices: ['engine', 'host'],
    parse: (value, source) => oneOf(value, source, ['engine', 'host'] as const),
    help: "container pools' tasks: in containers through Podman or Docker, or directly on the node ignoring the image",
    details:
      "`engine`: a task with `containerSettings` runs in a container of its image through Podman or Docker (on process nodes the node's agent runs it; on container nodes the host runs it beside the node's container; a server without a working engine refuses container pools, saying what is missing); `host`: container tasks run directly on the node as ordinary tasks, their images ignored, for machines without an engine",
  }),
  // Before every pool's tasks ran as users of their own, all ran as this one user: accepted, ignored and warned of.
  {
    key: null,
    flag: '--task-user <name>',
    env: 'LAPIS_TASK_USER',
    hidden: true,
    help: 'retired',
    warning: {
      when: 'flag or env',
      text: "--task-user (LAPIS_TASK_USER) is no longer used: as root, each pool's tasks run as OS users of their own that Lapis makes (see docs/security.md).",
    },
  },
  setting({
    key: 'autoScaleMinIntervalMs',
    flag: '--autoscale-min-interval <duration>',
    env: 'LAPIS_AUTOSCALE_MIN_INTERVAL',
    default: 'PT5M',
    parse: duration('The autoscale minimum interval', 1000, 'a second'),
    help: 'shortest autoscale evaluation interval accepted (Azure: PT5M); shorter suits local use',
  }),
  setting({
    key: 'nodeHeartbeatTimeoutMs',
    flag: '--node-heartbeat-timeout <duration>',
    env: 'LAPIS_NODE_HEARTBEAT_TIMEOUT',
    default: 'PT5S',
    parse: duration('The node heartbeat timeout', 1000, 'a second'),
    help: 'how long a node agent may stay silent before its node is marked unknown, its tasks requeued and the node restarted',
  }),
  setting({
    key: 'requestTimeoutMs',
    flag: '--request-timeout <duration>',
    env: 'LAPIS_REQUEST_TIMEOUT',
    default: 'PT30S',
    parse: duration('The request timeout', 100, '0.1 seconds'),
    help: 'how long a client has to send a whole request, headers and body; a stalled one is answered 408 and closed',
    details:
      'how long a client has to send a whole request, headers and body; a request still incomplete then is answered 408 `OperationTimedOut` and its connection closed',
  }),
  setting({
    key: 'tls.certFile',
    flag: '--cert <file>',
    defaultText: 'off',
    parse: text,
    help: 'TLS certificate (PEM) to serve HTTPS',
    details: 'TLS certificate (PEM), with `--key`: serve HTTPS on the Batch and the blob endpoint',
  }),
  setting({
    key: 'tls.keyFile',
    flag: '--key <file>',
    defaultText: 'off',
    parse: text,
    help: 'TLS private key (PEM) to serve HTTPS',
    details: 'TLS private key (PEM), with `--cert`',
  }),
  setting({
    key: 'azureHostnames',
    flag: '--azure-hostnames',
    env: 'LAPIS_AZURE_HOSTNAMES',
    default: 'false',
    defaultText: 'off',
    parse: parseSwitch,
    help: "serve HTTPS for Azure's host names (<account>.<region>.batch.azure.com, <storage>.blob.core.windows.net) with a local CA; see lapis certs, lapis hosts",
    details:
      "serve the Batch endpoint as `https://<account>.<region>.batch.azure.com` and the blob endpoint as `https://<storage>.blob.core.windows.net` (host-style), with a certificate signed by a local certificate authority kept in the data directory (`tls/`); `lapis certs` says how to trust it, `lapis hosts` prints the `/etc/hosts` lines. The ports stay `--port` and `--blob-port` (give `443` for URLs without one). Instead of `--cert`/`--key`",
  }),
  setting({
    key: 'azureRegion',
    flag: '--azure-region <region>',
    env: 'LAPIS_AZURE_REGION',
    default: 'local',
    parse: parseRegion,
    help: 'with --azure-hostnames: the region label of the Batch host names',
    details: 'with `--azure-hostnames`: the region label of the Batch host names (`<account>.<region>.batch.azure.com`); the certificate covers that region only',
  }),
  // 50: see cli/heap-growth.ts for why.
  setting({
    key: 'heapGrowingPercent',
    flag: '--heap-growing-percent <n>',
    env: 'LAPIS_HEAP_GROWING_PERCENT',
    default: '50',
    parse: parseHeapGrowingPercent,
    help: "how far (%) V8's heap may grow past its live objects between full collections; 0 keeps V8's heuristics",
    details:
      "how far (%) V8's heap may grow past its live objects between full collections; bounds the garbage a busy server holds (peak RSS about 230 MiB rather than 350 MiB while adding many tasks) at some extra GC work; `0` keeps V8's own heuristics, and a `--heap-growing-percent` given to node (e.g. in `NODE_OPTIONS`) wins. Not a cap: add `NODE_OPTIONS=--max-old-space-size=…` for a hard one",
  }),
  setting({
    key: 'readyJson',
    flag: '--ready-json',
    default: 'false',
    defaultText: 'off',
    parse: parseSwitch,
    help: 'when ready, print one JSON line (URLs, accounts, keys, blob connection string) instead of the text; logs go to stderr',
    details:
      'when ready, print one JSON line on stdout instead of the text: `batchUrl`, `accounts` (name, key), `blobUrl`, `storageAccount`, `storageKey`, `blobConnectionString`, `dataDirectory`, `nodesDirectory`, `pid`; a key other than the development ones is `null`. Logs go to stderr, so stdout carries that line alone (for test harnesses)',
  }),
  setting({
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'LAPIS_LOG_LEVEL',
    default: 'info',
    choices: LOG_LEVELS,
    parse: parseLogLevel,
    help: 'log level',
    details:
      "pino log level. Each state change of a pool, node or job logs at `info` (`warn` for a node that failed its start task or went missing), each task's at `debug` (`info` for a failure, a retry or a requeue); see docs/observability.md",
  }),
  setting({
    key: 'logFile',
    flag: '--log-file <file>',
    env: 'LAPIS_LOG_FILE',
    defaultText: 'off',
    parse: text,
    help: 'also append the log to this file, as JSON lines',
    details: 'also append the log to this file, as JSON lines (one object per line, the same fields as on a pipe); the terminal keeps its own view: pretty lines on a terminal, JSON lines otherwise',
  }),
];

/** Rules across settings, checked once all layers are in. */
export function checkTogether(settings: Partial<Settings>): void {
  const tls = settings.tls as Partial<NonNullable<Settings['tls']>> | undefined;
  if ((tls?.certFile === undefined) !== (tls?.keyFile === undefined)) throw new Error('--cert and --key go together.');
  if (tls && settings.azureHostnames) throw new Error('--azure-hostnames serves a certificate of its own local CA: leave out --cert and --key.');
  const listening = [settings.host, settings.blob?.host].filter((address) => address !== undefined);
  if (settings.azureHostnames && listening.some((address) => !/^127\.\d+\.\d+\.\d+$/.test(address) && address !== '::1')) {
    throw new Error('--azure-hostnames listens on loopback addresses only (127.x.x.x or ::1, in --host and --blob-host): its local CA signs for nothing else.');
  }
}

/** The long flag, `--port` of `--port <port>`. */
export function flagName(entry: { flag?: string }): string | undefined {
  return entry.flag?.split(' ')[0];
}

/** The setting behind a long flag. */
export function settingFor(flag: string): AnySetting {
  const entry = SETTINGS.find((candidate) => flagName(candidate) === flag);
  if (!entry) throw new Error(`No setting has the flag ${flag}.`);
  return entry;
}
