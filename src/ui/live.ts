// Live updates: one EventSource on /ui/api/events (the session's account's
// state changes, from the server's event log) for the whole page. It starts
// with `since=0`, so the events the server still keeps arrive first: the pool
// and job histories are drawn from them. Views reload what they show when a
// matching event arrives, at most once per RELOAD_MS.

import { useEffect, useState } from 'preact/hooks';

/** An event as /ui/api/events sends it (GET /lapis/events' stream): core/events.ts's LapisEvent on the wire (this side speaks HTTP only, so it keeps its own copy). */
export interface LapisEvent {
  id: number;
  time: string;
  resource: 'pool' | 'node' | 'job' | 'task' | 'fault';
  change: 'added' | 'state' | 'evaluated' | 'retried' | 'requeued' | 'fired' | 'deleted';
  poolId?: string;
  nodeId?: string;
  jobId?: string;
  taskId?: string;
  state?: string;
  previousState?: string;
  detail?: Record<string, string | number | boolean | undefined>;
}

const KEPT = 5000;
const RELOAD_MS = 700;
const kept: LapisEvent[] = [];
const listeners = new Set<(event: LapisEvent) => void>();
const connectionListeners = new Set<(connected: boolean) => void>();
let source: EventSource | undefined;

export function connectEvents(): void {
  if (source) return;
  source = new EventSource('/ui/api/events?since=0');
  source.onopen = () => connectionListeners.forEach((listener) => listener(true));
  source.onerror = () => connectionListeners.forEach((listener) => listener(false));
  for (const resource of ['pool', 'node', 'job', 'task']) {
    source.addEventListener(resource, (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as LapisEvent;
      kept.push(event);
      // Trimmed in halves, not one by one: a burst of 100,000 task events must not shift the array each time.
      if (kept.length >= 2 * KEPT) kept.splice(0, kept.length - KEPT);
      listeners.forEach((listener) => listener(event));
    });
  }
}

export function disconnectEvents(): void {
  source?.close();
  source = undefined;
  kept.length = 0;
}

/** The events kept so far (the last KEPT to 2 × KEPT) that match. */
export function keptEvents(match: (event: LapisEvent) => boolean): LapisEvent[] {
  return kept.filter(match);
}

/** Whether the event stream is connected. */
export function useConnected(): boolean {
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    connectionListeners.add(setConnected);
    return () => void connectionListeners.delete(setConnected);
  }, []);
  return connected;
}

/** A number that goes up (at most once per RELOAD_MS) when a matching event arrives: a view's reload key. */
export function useLiveVersion(match: (event: LapisEvent) => boolean, deps: unknown[] = []): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let timer: number | undefined;
    const listener = (event: LapisEvent) => {
      if (!match(event) || timer !== undefined) return;
      timer = window.setTimeout(() => {
        timer = undefined;
        setVersion((value) => value + 1);
      }, RELOAD_MS);
    };
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (timer !== undefined) clearTimeout(timer);
    };
  }, deps);
  return version;
}
