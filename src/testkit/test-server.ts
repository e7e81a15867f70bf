// startTestServer(): a real Lapis in-process on free ports with a fresh
// temporary data directory, plus clients from the official SDKs pointed at it.

import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DestinationStream } from 'pino';
import { DEV_ACCOUNT, defaultConfig, type LapisConfig } from '../config/config.js';
import type { Clock } from '../core/time.js';
import type { NodeProviderWrapper } from '../core/ports.js';
import { startLapis, type RunningLapis } from '../server/lapis-server.js';
import { createLogger } from '../server/logger.js';
import { OsUserAccounts } from '../server/os-users.js';

export interface TestServer {
  lapis: RunningLapis;
  dataDir: string;
  batch: BatchServiceClient;
  blob: BlobServiceClient;
  account: { name: string; key: string };
  /** A client for another account, or with another key. */
  batchClientFor(name: string, key: string): BatchServiceClient;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  dataDir?: string;
  config?: Partial<LapisConfig>;
  clock?: Clock;
  /** Where the server's log lines go; by default nowhere (level silent) unless LAPIS_TEST_LOG_LEVEL is set. */
  logDestination?: DestinationStream;
  /** Decorates the node provider and the events it reports through, to inject node faults (see NodeFaults in node-faults.ts). */
  wrapProvider?: NodeProviderWrapper;
}

/**
 * Real time plus an offset a test moves forward, for what Batch measures in
 * minutes (job schedule recurrences). Keep moves within the 15 minutes SharedKey
 * allows between a client's ocp-date and the server's clock.
 */
export class ShiftedClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-test-'));
  const config: LapisConfig = {
    ...defaultConfig(),
    port: 0,
    blob: { ...defaultConfig().blob, port: 0 },
    dataDir,
    logLevel: process.env.LAPIS_TEST_LOG_LEVEL ?? 'silent',
    ...options.config,
  };
  const lapis = await startLapis(config, { logger: createLogger(config.logLevel, options.logDestination), clock: options.clock, wrapProvider: options.wrapProvider });
  const account = config.accounts[0] ?? DEV_ACCOUNT;
  const batchClientFor = (name: string, key: string) => new BatchServiceClient(new BatchSharedKeyCredentials(name, key), lapis.batchUrl);
  return {
    lapis,
    dataDir,
    account,
    batch: batchClientFor(account.name, account.key),
    blob: new BlobServiceClient(lapis.storageAccountUrl, new StorageSharedKeyCredential(config.blob.accountName, config.blob.accountKey)),
    batchClientFor,
    async stop() {
      await lapis.stop();
      if (!options.dataDir) {
        fs.rmSync(dataDir, { recursive: true, force: true });
        // Its nodes are gone with it: so are the OS accounts they used.
        if (process.getuid?.() === 0) await new OsUserAccounts(path.join(dataDir, 'nodes')).removeLeftovers();
      }
    },
  };
}

/** Polls `check` until it returns a value other than undefined; no fixed sleeps in tests. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${options.what ?? 'a condition'}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
}
