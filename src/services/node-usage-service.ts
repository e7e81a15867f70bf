// Each node's latest usage sample (core/node-usage.ts), as its agent sent it
// on a heartbeat: read by the autoscale samples (autoscale-samples.ts), and
// added to its pool's resource totals in the store for lifetime statistics.
//
// The latest samples live in memory, as heartbeats do (scheduler/node-liveness.ts):
// a node's sample older than a few measuring intervals (monotonic time, not
// the Batch clock tests move) is taken as none, since its agent has gone
// quiet; after a restart nodes report again within one interval.

import { NODE_USAGE_INTERVAL_MS, type NodeUsageSample } from '../core/node-usage.js';
import type { ServiceContext } from './context.js';

/** A sample this much older than the latest measuring interval no longer describes its node. */
const STALE_AFTER_MS = 3 * NODE_USAGE_INTERVAL_MS;

/** What the autoscale samples read: the nodes' latest samples. */
export interface NodeUsageReader {
  /** The fresh samples of these nodes; a node without one is left out. */
  latest(nodeIds: readonly string[]): NodeUsageSample[];
}

interface Heard {
  sample: NodeUsageSample;
  at: number;
}

export class NodeUsageService implements NodeUsageReader {
  private readonly heard = new Map<string, Heard>();
  /** Which pool each node is in, for its pool's totals; filled from the store when a node is first heard. */
  private readonly pools = new Map<string, { account: string; poolId: string }>();
  private lastPruned = 0;

  constructor(
    private readonly context: ServiceContext,
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  /** A node's agent sent a sample (NodeEvents.nodeHeartbeat). */
  record(nodeId: string, sample: NodeUsageSample): void {
    const at = this.monotonic();
    this.heard.set(nodeId, { sample, at });
    this.prune(at);
    const pool = this.poolOf(nodeId);
    if (!pool) return;
    const { store } = this.context;
    try {
      store.transaction(() => store.usage.resourcesSampled(pool.account, pool.poolId, sample, this.context.now().getTime()));
    } catch {
      // A store that cannot take it now (a full disk): the statistics miss one sample of a few seconds, as Batch's may.
    }
  }

  latest(nodeIds: readonly string[]): NodeUsageSample[] {
    const now = this.monotonic();
    return nodeIds.flatMap((nodeId) => {
      const heard = this.heard.get(nodeId);
      return heard && now - heard.at <= STALE_AFTER_MS ? [heard.sample] : [];
    });
  }

  private poolOf(nodeId: string): { account: string; poolId: string } | undefined {
    if (!this.pools.has(nodeId)) {
      for (const { account, node, poolId } of this.context.store.nodes.listAll()) this.pools.set(node.id, { account, poolId });
    }
    return this.pools.get(nodeId);
  }

  /** Forgets nodes gone quiet (removed, or lost), once per interval. */
  private prune(now: number): void {
    if (now - this.lastPruned < NODE_USAGE_INTERVAL_MS) return;
    this.lastPruned = now;
    for (const [nodeId, heard] of this.heard) {
      if (now - heard.at <= STALE_AFTER_MS) continue;
      this.heard.delete(nodeId);
      this.pools.delete(nodeId);
    }
  }
}
