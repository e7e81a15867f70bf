// The one way side effects reach nodes (the NodeWork port): services and the
// scheduler hand work here, never to the provider itself.
//
// - A node's lifecycle operations (provision, restart, release) run one after
//   another, one of a kind at a time: a node released while it is still being
//   provisioned (its pool deleted at once) must not have its directory
//   removed while the provisioning creates it.
// - A run starts at once, or after the node's pending lifecycle operation.
// - Stops run at once, side by side; a node's file removals wait for the
//   stops handed over before them (a deleted task's process ends before its
//   directory goes).
// - idle() waits for everything handed over so far: shutdown calls it.

import type { NodePlacement, NodeProvider, NodeWork, TaskRun, TaskRunRef } from '../core/ports.js';

export interface NodeExecutorLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export class NodeExecutor implements NodeWork {
  /** `action:nodeId` of lifecycle operations queued or running. */
  private readonly busy = new Set<string>();
  /** The last lifecycle operation queued for each node. */
  private readonly lifecycle = new Map<string, Promise<void>>();
  /** Each node's stops still going, which its file removals wait for. */
  private readonly stops = new Map<string, Set<Promise<void>>>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly provider: NodeProvider,
    private readonly logger: NodeExecutorLogger,
  ) {}

  provision(placement: NodePlacement, then: () => void, failed?: (failure: unknown) => void): void {
    this.onNode(placement, 'provision', async () => {
      try {
        await this.provider.provisionNode(placement);
      } catch (error) {
        failed?.(error);
        throw error;
      }
      then();
    });
  }

  release(placement: NodePlacement, then: () => void): void {
    this.onNode(placement, 'release', async () => {
      await this.provider.releaseNode(placement);
      then();
    });
  }

  restart(placement: NodePlacement, options: { wipe: boolean; recover?: boolean }, then: () => void, failed?: (failure: unknown) => void): void {
    this.onNode(placement, options.recover ? 'recover' : 'restart', async () => {
      try {
        await this.provider.restartNode(placement, { wipe: options.wipe });
      } catch (error) {
        failed?.(error);
        throw error;
      }
      then();
    });
  }

  startRuns(runs: readonly TaskRun[]): void {
    for (const run of runs) {
      const pending = this.lifecycle.get(run.nodeId);
      if (!pending) {
        this.provider.runTask(run);
        continue;
      }
      this.track(pending.then(() => this.provider.runTask(run)));
    }
  }

  stopRuns(runs: readonly TaskRunRef[]): void {
    for (const run of runs) {
      const stop = this.provider.stopTask(run).catch((error: unknown) => this.logger.warn({ err: error, taskId: run.taskId }, 'could not stop a task'));
      const stops = this.stops.get(run.nodeId) ?? new Set<Promise<void>>();
      this.stops.set(run.nodeId, stops);
      stops.add(stop);
      void stop.finally(() => {
        stops.delete(stop);
        if (stops.size === 0 && this.stops.get(run.nodeId) === stops) this.stops.delete(run.nodeId);
      });
      this.track(stop);
    }
  }

  removeFiles(placement: NodePlacement, path: string): void {
    const before = [...(this.stops.get(placement.nodeId) ?? [])];
    this.track(
      Promise.allSettled(before).then(async () => {
        await this.provider
          .nodeFiles(placement)
          ?.delete(path, true)
          .catch(() => undefined);
      }),
    );
  }

  /** Waits until everything handed over (and what that work handed over in turn) is done. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private onNode(placement: NodePlacement, action: string, work: () => Promise<void>): void {
    const key = `${action}:${placement.nodeId}`;
    if (this.busy.has(key)) return;
    this.busy.add(key);
    const previous = this.lifecycle.get(placement.nodeId) ?? Promise.resolve();
    const operation: Promise<void> = previous
      .then(work)
      .catch((error: unknown) => this.logger.error({ err: error, nodeId: placement.nodeId, action }, 'node operation failed'))
      .finally(() => {
        this.busy.delete(key);
        if (this.lifecycle.get(placement.nodeId) === operation) this.lifecycle.delete(placement.nodeId);
      });
    this.lifecycle.set(placement.nodeId, operation);
    this.track(operation);
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.catch(() => undefined).finally(() => this.pending.delete(work));
  }
}
