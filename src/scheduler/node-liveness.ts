// Node liveness: when each node's agent was last heard from, and which nodes
// have been silent for longer than the timeout.
//
// Times are monotonic milliseconds (real elapsed time, not the Batch clock,
// which tests move by minutes). The table lives in memory, as Nomad keeps its
// heartbeat timers: after a server restart every node starts with a fresh
// grace, and heartbeats cost no store write.

/** How often an agent should beat: several beats per timeout, so one late beat is not a death. */
export function heartbeatIntervalFor(timeoutMs: number): number {
  return Math.max(10, Math.floor(timeoutMs / 5));
}

export interface WatchedNode {
  nodeId: string;
}

export class NodeLiveness {
  private readonly lastHeard = new Map<string, number>();
  private lastCheck: number | undefined;

  constructor(readonly timeoutMs: number) {}

  /** How often silent() should run: twice per timeout, so a silent node is found within 1.5 timeouts. */
  get checkIntervalMs(): number {
    return Math.max(50, Math.floor(this.timeoutMs / 2));
  }

  heard(nodeId: string, at: number): void {
    this.lastHeard.set(nodeId, at);
  }

  /**
   * The watched nodes not heard from for longer than the timeout; each is
   * reported once. A node seen for the first time gets a full timeout from
   * now, and nodes no longer watched are forgotten.
   */
  silent<T extends WatchedNode>(watched: readonly T[], now: number): T[] {
    // A check that comes late means this process stalled, and heartbeats
    // waited on it too: no evidence against the nodes. Late is half an
    // interval over, so a node found silent was silent while checks ran on time.
    const stalled = this.lastCheck !== undefined && now - this.lastCheck > this.checkIntervalMs * 1.5;
    this.lastCheck = now;
    const watchedIds = new Set(watched.map((node) => node.nodeId));
    for (const nodeId of this.lastHeard.keys()) if (!watchedIds.has(nodeId)) this.lastHeard.delete(nodeId);
    const lost: T[] = [];
    for (const node of watched) {
      const heard = this.lastHeard.get(node.nodeId);
      if (heard === undefined || stalled) {
        this.lastHeard.set(node.nodeId, now);
      } else if (now - heard > this.timeoutMs) {
        lost.push(node);
        this.lastHeard.delete(node.nodeId);
      }
    }
    return lost;
  }
}
