// The `lapis` command. `lapis serve` runs the whole service in one process:
// the Batch REST endpoint, the embedded blob endpoint, the scheduler and
// local compute nodes.

import { Command, Option } from 'commander';
import {
  accountsFromFlags,
  applyEnvironment,
  DEV_ACCOUNT,
  DEV_STORAGE,
  defaultConfig,
  parseAdminTasks,
  parsePort,
  scrubSecretEnvironment,
  type LapisConfig,
} from '../config/config.js';
import { addApplicationPackage, removeApplicationPackage } from '../server/application-packages.js';
import { startLapis } from '../server/lapis-server.js';
import { createLogger } from '../server/logger.js';
import { DEFAULT_HEAP_GROWING_PERCENT, limitHeapGrowth, parseHeapGrowingPercent } from './heap-growth.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function buildCli(): Command {
  const program = new Command('lapis').description('An open-source Azure Batch: the Batch REST API, a scheduler and local compute nodes.');

  program
    .command('serve')
    .description('Start the Batch endpoint, the embedded blob endpoint and local compute nodes.')
    .option('--host <host>', 'address to listen on', process.env.LAPIS_HOST ?? '127.0.0.1')
    .option('--port <port>', 'Batch REST port', process.env.LAPIS_PORT ?? '10100')
    .option('--blob-port <port>', 'embedded blob endpoint port', process.env.LAPIS_BLOB_PORT ?? '10000')
    .option('--blob-endpoint <url>', 'use an external Azure-compatible blob endpoint instead of the embedded one')
    .option('--storage-account <name>', 'storage account name of the blob endpoint')
    .option('--storage-key <key>', 'storage account key of the blob endpoint (unsafe beside tasks: it shows in the process list; prefer env LAPIS_STORAGE_KEY)')
    .option('--data <dir>', 'data directory (store, blobs, node directories)', process.env.LAPIS_DATA ?? '.lapis')
    .option('--in-memory', 'keep the store and blobs in memory; nothing survives a restart')
    .option('--accounts-file <file>', "the Batch accounts, one 'name:key' per line (# comments); mode 0600, owned by the user running lapis; env LAPIS_ACCOUNTS_FILE")
    .option('--account <name:key>', 'a Batch account (repeatable). UNSAFE beside tasks: the key shows in the process list; use --accounts-file or env LAPIS_ACCOUNTS', collect, [])
    .addOption(
      new Option('--admin-tasks <policy>', 'allow or refuse tasks that run as admin (root on this host with local nodes)')
        .choices(['allow', 'refuse'])
        .default(process.env.LAPIS_ADMIN_TASKS?.toLowerCase() ?? 'allow'),
    )
    // Before every pool's tasks ran as users of their own, all ran as this one user: accepted, ignored and warned of.
    .addOption(new Option('--task-user <name>').hideHelp())
    .option('--autoscale-min-interval <duration>', 'shortest autoscale evaluation interval accepted (Azure: PT5M); shorter suits local use', process.env.LAPIS_AUTOSCALE_MIN_INTERVAL ?? 'PT5M')
    .option('--node-heartbeat-timeout <duration>', 'how long a node agent may stay silent before its node is marked unknown, its tasks requeued and the node restarted', process.env.LAPIS_NODE_HEARTBEAT_TIMEOUT ?? 'PT5S')
    .option('--request-timeout <duration>', 'how long a client has to send a whole request, headers and body; a stalled one is answered 408 and closed', process.env.LAPIS_REQUEST_TIMEOUT ?? 'PT30S')
    .option('--cert <file>', 'TLS certificate (PEM) to serve HTTPS')
    .option('--key <file>', 'TLS private key (PEM) to serve HTTPS')
    .option(
      '--heap-growing-percent <n>',
      "how far (%) V8's heap may grow past its live objects between full collections; 0 keeps V8's heuristics",
      process.env.LAPIS_HEAP_GROWING_PERCENT ?? String(DEFAULT_HEAP_GROWING_PERCENT),
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default(process.env.LAPIS_LOG_LEVEL ?? 'info'))
    .action(async (options: Record<string, string | string[] | boolean | undefined>) => {
      const base = applyEnvironment(defaultConfig());
      // Read once: no child process (node agents, useradd) may inherit the keys.
      scrubSecretEnvironment();
      const accountFlags = options.account as string[];
      const warnings: string[] = [];
      if (accountFlags.length > 0) {
        warnings.push(
          '--account puts account keys on the command line, which every process on this host (tasks included) can read in /proc/<pid>/cmdline. ' +
            'Use --accounts-file FILE (mode 0600) or env LAPIS_ACCOUNTS_FILE, or env LAPIS_ACCOUNTS, instead.',
        );
      }
      if (options.taskUser !== undefined || process.env.LAPIS_TASK_USER) {
        warnings.push('--task-user (LAPIS_TASK_USER) is no longer used: as root, each pool\'s tasks run as OS users of their own that Lapis makes (see docs/security.md).');
      }
      if (options.storageKey !== undefined) {
        warnings.push('--storage-key puts the storage key on the command line, which every process on this host (tasks included) can read. Use env LAPIS_STORAGE_KEY instead.');
      }
      const config: LapisConfig = {
        ...base,
        host: options.host as string,
        port: parsePort(options.port as string, '--port'),
        blob: {
          port: parsePort(options.blobPort as string, '--blob-port'),
          externalEndpoint: options.blobEndpoint as string | undefined,
          accountName: (options.storageAccount as string | undefined) ?? base.blob.accountName,
          accountKey: (options.storageKey as string | undefined) ?? base.blob.accountKey,
        },
        dataDir: options.data as string,
        inMemory: options.inMemory === true,
        accounts: accountsFromFlags(options.accountsFile as string | undefined, accountFlags) ?? base.accounts,
        adminTasks: parseAdminTasks(options.adminTasks as string, '--admin-tasks'),
        logLevel: options.logLevel as string,
        autoScaleMinInterval: options.autoscaleMinInterval as string,
        nodeHeartbeatTimeout: options.nodeHeartbeatTimeout as string,
        requestTimeout: options.requestTimeout as string,
      };
      limitHeapGrowth(parseHeapGrowingPercent(options.heapGrowingPercent as string));
      if ((options.cert === undefined) !== (options.key === undefined)) throw new Error('--cert and --key go together.');
      if (options.cert) config.tls = { certFile: options.cert as string, keyFile: options.key as string };
      await serve(config, warnings);
    });

  const app = program.command('app').description('Application packages that pools and tasks reference (applicationPackageReferences).');
  app
    .command('add')
    .description('Add a package version from a zip file or a folder.')
    .argument('<applicationId>', 'application id')
    .argument('<version>', 'package version')
    .argument('<source>', 'zip file or folder')
    .option('--data <dir>', 'data directory of the Lapis service', process.env.LAPIS_DATA ?? '.lapis')
    .option('--account <name>', 'Batch account the package belongs to', DEV_ACCOUNT.name)
    .option('--display-name <name>', "the application's display name")
    .option('--default', 'make this version the default')
    .action(async (applicationId: string, version: string, source: string, options: Record<string, string | boolean | undefined>) => {
      const summary = await addApplicationPackage(options.data as string, options.account as string, {
        applicationId,
        version,
        source,
        displayName: options.displayName as string | undefined,
        makeDefault: options.default === true,
      });
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
  app
    .command('remove')
    .description('Remove a package version.')
    .argument('<applicationId>', 'application id')
    .argument('<version>', 'package version')
    .option('--data <dir>', 'data directory of the Lapis service', process.env.LAPIS_DATA ?? '.lapis')
    .option('--account <name>', 'Batch account the package belongs to', DEV_ACCOUNT.name)
    .action(async (applicationId: string, version: string, options: Record<string, string | undefined>) => {
      await removeApplicationPackage(options.data as string, options.account as string, applicationId, version);
    });

  return program;
}

async function serve(config: LapisConfig, warnings: string[]): Promise<void> {
  const logger = createLogger(config.logLevel);
  for (const warning of warnings) {
    logger.warn(warning);
    process.stderr.write(`lapis: warning: ${warning}\n`);
  }
  const lapis = await startLapis(config, { logger });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`Batch URL:       ${lapis.batchUrl}`);
  // Only the well-known development keys are printed: output is often kept in logs.
  for (const account of config.accounts) {
    out(`Batch account:   ${account.name}`);
    out(`Batch key:       ${account.name === DEV_ACCOUNT.name && account.key === DEV_ACCOUNT.key ? account.key : '(not printed)'}`);
  }
  out(`Blob URL:        ${lapis.storageAccountUrl}`);
  out(`Storage account: ${config.blob.accountName}`);
  out(`Storage key:     ${config.blob.accountKey === DEV_STORAGE.accountKey ? config.blob.accountKey : '(not printed)'}`);
  out(`Data directory:  ${config.inMemory ? '(in memory)' : config.dataDir}`);
  out('ready');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    lapis.logger.info({ signal }, 'stopping');
    lapis.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        lapis.logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

buildCli()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`lapis: ${(error as Error).message}\n`);
    process.exit(1);
  });
