// What every service needs: the store, the clock, ETags, the scheduler's
// wake-up signal, the node provider and the work queue to nodes. Built once by server/.

import type { AdminTasksPolicy } from '../core/admin-tasks.js';
import type { Clock } from '../core/time.js';
import { ETagSequence } from '../core/etag.js';
import type { AutoStorage, BlobUploader, NodeProvider, NodeWork, SchedulerSignal, Store, TaskTokenIssuer } from '../core/ports.js';

export interface ServiceLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface ServiceDeps {
  store: Store;
  clock: Clock;
  signal: SchedulerSignal;
  /** For what nodes hold (their files, outcomes recorded before a restart); side effects go through nodeWork. */
  provider: NodeProvider;
  /** Every side effect on nodes: runs started and stopped, files removed, nodes provisioned. */
  nodeWork: NodeWork;
  autoStorage: AutoStorage;
  blobUploader: BlobUploader;
  logger: ServiceLogger;
  /**
   * The account's Batch URL, as tasks see it in AZ_BATCH_ACCOUNT_URL and URLs in answers name it: e.g.
   * http://127.0.0.1:10100, or with --azure-hostnames https://<account>.<region>.batch.azure.com[:port].
   */
  publicUrl(account: string): string;
  /** The shortest autoscale evaluation interval accepted (Azure: 5 minutes). */
  minAutoScaleIntervalMs: number;
  /** Signs the authentication tokens of tasks with authenticationTokenSettings. */
  taskTokens: TaskTokenIssuer;
  /** The operator's --admin-tasks: whether requests may run code as admin (core/admin-tasks.ts). */
  adminTasks: AdminTasksPolicy;
  /**
   * The URL a node uses for a blob URL a client gave (resource and output files): with --azure-hostnames,
   * Lapis's storage account's Azure name readdressed to the blob endpoint, which nodes reach without the
   * hosts lines a client's machine has; absent: every URL as given.
   */
  nodeBlobUrl?: (url: string) => string;
  /** Why this server cannot run container pools (no working engine, and not --containers host); absent: it can. */
  containerPoolRefusal?: () => string | undefined;
}

export class ServiceContext {
  private readonly etags = new ETagSequence();

  constructor(readonly deps: ServiceDeps) {}

  get store(): Store {
    return this.deps.store;
  }

  /** The time and a fresh ETag for one mutation. */
  stamp(): { now: Date; eTag: string } {
    const now = this.deps.clock.now();
    return { now, eTag: this.etags.next(now) };
  }

  now(): Date {
    return this.deps.clock.now();
  }

  /** See ServiceDeps.nodeBlobUrl. */
  nodeBlobUrl(url: string): string {
    return this.deps.nodeBlobUrl ? this.deps.nodeBlobUrl(url) : url;
  }
}

/** An account-scoped caller; every service method takes one. */
export interface Caller {
  account: string;
}
