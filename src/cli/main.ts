// The `lapis` command. `lapis serve` runs the whole service in one process:
// the Batch REST endpoint, the embedded blob endpoint, the scheduler and
// local compute nodes.

import { Command } from 'commander';
import {
  DEV_ACCOUNT,
  resolveSetting,
  resolveSettings,
  scrubSecretEnvironment,
  settingFor,
  SETTINGS,
  type LapisConfig,
  type ProcessSettings,
} from '../config/config.js';
import { addApplicationPackage, removeApplicationPackage } from '../server/application-packages.js';
import { startLapis } from '../server/lapis-server.js';
import { createLogger, logDestination } from '../server/logger.js';
import { lapisVersion } from '../server/version.js';
import { addAccountCommand } from './account-command.js';
import { addAgentCommand } from './agent-command.js';
import { addAzureCommands } from './azure-commands.js';
import { addFaultCommand } from './fault-command.js';
import { addLogsCommand } from './logs-command.js';
import { addWatchCommand } from './watch-command.js';
import { checkKnownAccount, checkStoreExists } from './app-checks.js';
import { limitHeapGrowth } from './heap-growth.js';
import { readyInfo, readyText } from './ready-output.js';
import { addSettingOptions, environmentOnlyHelp, givenFlags, optionFor } from './settings-options.js';

export function buildCli(): Command {
  const program = new Command('lapis')
    .description('An open-source Azure Batch: the Batch REST API, a scheduler and local compute nodes.')
    .version(lapisVersion(), '-V, --version', 'print the version of lapis');

  // Every option of serve comes from the settings table (config/settings-table.ts).
  const serveCommand = program.command('serve').description('Start the Batch endpoint, the embedded blob endpoint and local compute nodes.');
  addSettingOptions(serveCommand, SETTINGS).addHelpText('after', environmentOnlyHelp(SETTINGS));
  serveCommand.action(async () => {
    let settings: ReturnType<typeof resolveSettings>;
    try {
      settings = resolveSettings(process.env, givenFlags(serveCommand, SETTINGS));
    } finally {
      // Read once: no child process (node agents, useradd) may inherit the keys.
      scrubSecretEnvironment();
    }
    limitHeapGrowth(settings.process.heapGrowingPercent);
    await serve(settings.config, settings.process, settings.warnings);
  });

  addAccountCommand(program);
  addAgentCommand(program);
  addAzureCommands(program);
  addWatchCommand(program);
  addLogsCommand(program);
  addFaultCommand(program);

  // `lapis app` reads the data directory as serve does: --data, else LAPIS_DATA, else .lapis.
  const data = settingFor('--data');
  const accountsFile = settingFor('--accounts-file');
  const checkedDataDirectory = (options: Record<string, unknown>) => {
    const dir = resolveSetting(data, process.env, options.data as string | undefined) as string;
    checkStoreExists(dir);
    checkKnownAccount(options.account as string, options.accountsFile as string | undefined);
    return dir;
  };

  const app = program.command('app').description('Application packages that pools and tasks reference (applicationPackageReferences).');
  app
    .command('add')
    .description('Add a package version from a zip file or a folder.')
    .argument('<applicationId>', 'application id')
    .argument('<version>', 'package version')
    .argument('<source>', 'zip file or folder')
    .addOption(optionFor(data))
    .option('--account <name>', 'Batch account the package belongs to', DEV_ACCOUNT.name)
    .addOption(optionFor(accountsFile))
    .option('--display-name <name>', "the application's display name")
    .option('--default', 'make this version the default')
    .action(async (applicationId: string, version: string, source: string, options: Record<string, string | boolean | undefined>) => {
      const summary = await addApplicationPackage(checkedDataDirectory(options), options.account as string, {
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
    .addOption(optionFor(data))
    .option('--account <name>', 'Batch account the package belongs to', DEV_ACCOUNT.name)
    .addOption(optionFor(accountsFile))
    .action(async (applicationId: string, version: string, options: Record<string, string | undefined>) => {
      await removeApplicationPackage(checkedDataDirectory(options), options.account as string, applicationId, version);
    });

  return program;
}

async function serve(config: LapisConfig, settings: ProcessSettings, warnings: string[]): Promise<void> {
  // With --ready-json, stdout carries the ready line alone.
  const fd = settings.readyJson ? 2 : 1;
  const pretty = (fd === 1 ? process.stdout : process.stderr).isTTY === true;
  const logger = createLogger(config.logLevel, logDestination({ level: config.logLevel, fd, pretty, file: settings.logFile }));
  for (const warning of warnings) {
    logger.warn(warning);
    process.stderr.write(`lapis: warning: ${warning}\n`);
  }
  const lapis = await startLapis(config, { logger });
  const info = readyInfo(lapis, config);
  process.stdout.write(settings.readyJson ? `${JSON.stringify(info)}\n` : `${readyText(info).join('\n')}\n`);
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
