// What /health?detail=true and the metrics say about the parts Lapis runs on,
// as LocalStack's health endpoint lists its services: whether the store
// answers, whether the blob endpoint takes connections, which node runtime
// runs the nodes and how many nodes are in each state, and the version.
// Counts only: the answer is open to anyone who can reach /health.

import net from 'node:net';
import type { PartStatus } from '../api/lapis/insight.js';
import type { Store } from '../core/ports.js';

/** A read the store must answer; the failure's message when it cannot. */
export function probeStore(store: Store): { status: PartStatus; error?: string } {
  try {
    store.transaction(() => store.pools.get('', ''));
    return { status: 'up' };
  } catch (error) {
    return { status: 'down', error: (error as Error).message };
  }
}

/** Whether the blob endpoint takes a TCP connection (plain or TLS alike) within `timeoutMs`. */
export function probeBlob(endpoint: string, timeoutMs = 2_000): Promise<{ status: PartStatus; error?: string }> {
  const url = new URL(endpoint);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: { status: PartStatus; error?: string }) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ status: 'down', error: `no connection within ${timeoutMs} ms` }));
    socket.once('connect', () => done({ status: 'up' }));
    socket.once('error', (error) => done({ status: 'down', error: error.message }));
  });
}

/** Nodes of every account by state. */
export function nodesByState(store: Store): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { node } of store.nodes.listAll()) counts[node.state] = (counts[node.state] ?? 0) + 1;
  return counts;
}
