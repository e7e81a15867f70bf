// `lapis account key`: a new account key, as Batch makes them (64 random
// bytes, base64), for an accounts file or LAPIS_ACCOUNTS.

import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';

export function addAccountCommand(program: Command): void {
  const account = program.command('account').description('Batch accounts.');
  account
    .command('key')
    .description("Print a new random account key (64 bytes, base64): use it as 'name:key' in an accounts file or LAPIS_ACCOUNTS.")
    .action(() => {
      process.stdout.write(`${randomBytes(64).toString('base64')}\n`);
    });
}
