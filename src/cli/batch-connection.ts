// How the client commands (`lapis watch`, `lapis logs`) reach a Lapis server:
// its URL and an account, signed with the account's key by @azure/batch, as
// any Batch client. The key comes from the environment (LAPIS_KEY) or, for
// the development account, is the well-known one: never a flag, since every
// process on the machine (tasks included) can read another's command line.

import type { BatchServiceClient } from '@azure/batch';
import type { Command } from 'commander';
import { DEV_ACCOUNT } from '../config/config.js';

export interface ConnectionOptions {
  url: string;
  account: string;
}

export function addConnectionOptions(command: Command): Command {
  return command
    .option('--url <url>', 'the Lapis Batch endpoint (env LAPIS_URL)', process.env.LAPIS_URL || 'http://127.0.0.1:10100')
    .option('--account <name>', 'the Batch account (env LAPIS_ACCOUNT); its key comes from env LAPIS_KEY, the development account\'s is known', process.env.LAPIS_ACCOUNT || DEV_ACCOUNT.name);
}

/** Loaded when a client command runs: @azure/batch (with ms-rest-js) is a quarter of a second of `lapis serve`'s start. */
export async function batchClient(options: ConnectionOptions): Promise<BatchServiceClient> {
  const key = process.env.LAPIS_KEY || (options.account === DEV_ACCOUNT.name ? DEV_ACCOUNT.key : undefined);
  if (!key) throw new Error(`no key for account ${options.account}: set LAPIS_KEY.`);
  const { BatchServiceClient, BatchSharedKeyCredentials } = await import('@azure/batch');
  return new BatchServiceClient(new BatchSharedKeyCredentials(options.account, key), options.url.replace(/\/$/, ''));
}

/** A Batch error as one line: `JobNotFound: The specified job does not exist.`, or the error's own message. */
export function describeError(error: unknown): string {
  const batchError = error as { code?: unknown; message?: unknown; body?: { message?: { value?: unknown } } };
  const message = batchError.message as { value?: unknown } | string | undefined;
  const text = typeof message === 'string' ? message : String(message?.value ?? batchError.body?.message?.value ?? error);
  return typeof batchError.code === 'string' ? `${batchError.code}: ${text.split('\n')[0]}` : text;
}

/** Runs a client command; a failure ends it with the error in one line (main prints it). */
export async function asClientCommand(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    throw new Error(describeError(error));
  }
}
