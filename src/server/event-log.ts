// Numbers each state change (observed-store.ts), writes it to the log as one
// structured line, keeps the latest ones of each account in a ring for
// clients that connect or reconnect (GET /lapis/events), and hands it to
// whoever listens (the event stream's clients, the metrics).
//
// A task's ordinary steps log at debug (a job of 100,000 tasks would
// otherwise be 300,000 lines), and so does a node going between idle and
// running with each task; what needs a look (a failed task, a requeue, a
// retry, a node that failed or went missing) logs at info or warn, as do the
// other steps of pools, nodes and jobs.

import type { Logger } from 'pino';
import type { EventFeed, EventSubscription, LapisEvent, StateChange } from '../core/events.js';

/** How many events each account keeps for clients that resume. */
export const EVENTS_KEPT_PER_ACCOUNT = 10_000;

const BUSY_NODE_STATES = new Set(['idle', 'running']);
const TROUBLED_NODE_STATES = new Set(['starttaskfailed', 'unusable', 'unknown', 'preempted']);

/** A fixed-size ring, oldest first. */
class Ring {
  private readonly items: LapisEvent[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {}

  push(event: LapisEvent): void {
    if (this.items.length < this.capacity) this.items.push(event);
    else {
      this.items[this.head] = event;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  oldest(): LapisEvent | undefined {
    return this.items[this.head];
  }

  after(since: number): LapisEvent[] {
    const ordered = [...this.items.slice(this.head), ...this.items.slice(0, this.head)];
    const first = ordered.findIndex((event) => event.id > since);
    return first < 0 ? [] : ordered.slice(first);
  }
}

export class EventLog implements EventFeed {
  private nextId = 1;
  private readonly rings = new Map<string, Ring>();
  private readonly subscribers = new Map<string, Set<(event: LapisEvent) => void>>();
  private readonly observers: ((event: LapisEvent) => void)[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly capacity = EVENTS_KEPT_PER_ACCOUNT,
  ) {}

  /** Numbers, logs, keeps and passes on one change. */
  record(change: StateChange): void {
    const event: LapisEvent = { id: this.nextId++, ...change };
    this.log(event);
    const account = event.account.toLowerCase();
    let ring = this.rings.get(account);
    if (!ring) this.rings.set(account, (ring = new Ring(this.capacity)));
    ring.push(event);
    for (const observer of this.observers) this.tell(observer, event);
    const listeners = this.subscribers.get(account);
    if (listeners) for (const listener of listeners) this.tell(listener, event);
  }

  /** Called after the change committed: a listener's failure must not reach the code that made the change. */
  private tell(listener: (event: LapisEvent) => void, event: LapisEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.logger.error({ err: error }, 'an event listener failed');
    }
  }

  /** Hears every account's events (the metrics; what a restart's recovery did). */
  observe(observer: (event: LapisEvent) => void): EventSubscription {
    this.observers.push(observer);
    return {
      close: () => {
        const index = this.observers.indexOf(observer);
        if (index >= 0) this.observers.splice(index, 1);
      },
    };
  }

  recent(account: string, since: number): LapisEvent[] {
    return this.rings.get(account.toLowerCase())?.after(since) ?? [];
  }

  latestId(): number {
    return this.nextId - 1;
  }

  oldestId(account: string): number | undefined {
    return this.rings.get(account.toLowerCase())?.oldest()?.id;
  }

  subscribe(account: string, listener: (event: LapisEvent) => void): EventSubscription {
    const key = account.toLowerCase();
    let listeners = this.subscribers.get(key);
    if (!listeners) this.subscribers.set(key, (listeners = new Set()));
    listeners.add(listener);
    return {
      close: () => {
        listeners.delete(listener);
        if (listeners.size === 0 && this.subscribers.get(key) === listeners) this.subscribers.delete(key);
      },
    };
  }

  private log(event: LapisEvent): void {
    const level = levelOf(event);
    if (!this.logger.isLevelEnabled(level)) return;
    this.logger[level]({ event }, describe(event));
  }
}

function levelOf(event: LapisEvent): 'debug' | 'info' | 'warn' {
  if (event.resource === 'node' && event.state && TROUBLED_NODE_STATES.has(event.state)) return 'warn';
  // A busy node goes between idle and running with every task.
  if (event.resource === 'node' && BUSY_NODE_STATES.has(event.state ?? '') && BUSY_NODE_STATES.has(event.previousState ?? '')) return 'debug';
  // Autoscale evaluates every interval: only a failing formula is worth the terminal.
  if (event.change === 'evaluated') return event.detail?.autoScaleError ? 'warn' : 'debug';
  if (event.resource !== 'task') return 'info';
  if (event.change === 'requeued' || event.change === 'retried') return 'info';
  if (event.state === 'completed' && event.detail?.result === 'failure') return 'info';
  return 'debug';
}

/** One line a person reads: `task job-1/t-3 running → completed (exit 1, failure)`. */
export function describe(event: LapisEvent): string {
  const name =
    event.resource === 'fault'
      ? `${event.detail?.type} ${event.detail?.faultId}`
      : event.resource === 'task'
      ? `${event.jobId}/${event.taskId}`
      : event.resource === 'node'
        ? `${event.poolId}/${event.nodeId}`
        : (event.poolId ?? event.jobId ?? '');
  const poolResize = event.resource === 'pool' && event.previousState === event.state;
  const what =
    event.change === 'state'
      ? poolResize
        ? `${event.detail?.previousAllocationState} → ${event.detail?.allocationState}`
        : `${event.previousState ?? '?'} → ${event.state}`
      : event.change === 'added' && event.resource !== 'pool' && event.resource !== 'fault'
        ? `added, ${event.state}`
        : event.change;
  return `${event.resource} ${name} ${what}${detailText(event)}`;
}

function detailText(event: LapisEvent): string {
  const detail = event.detail;
  if (!detail) return '';
  const parts: string[] = [];
  if (event.resource === 'pool') {
    if (event.change !== 'state' || event.previousState !== event.state) parts.push(`${detail.allocationState}`);
    parts.push(`${detail.currentDedicatedNodes}/${detail.targetDedicatedNodes} dedicated`, `${detail.currentLowPriorityNodes}/${detail.targetLowPriorityNodes} low-priority`);
  }
  if (detail.exitCode !== undefined) parts.push(`exit ${detail.exitCode}`);
  if (detail.result !== undefined) parts.push(String(detail.result));
  if (detail.failureCode !== undefined) parts.push(String(detail.failureCode));
  if (detail.resizeError !== undefined) parts.push(String(detail.resizeError));
  if (detail.autoScaleEvaluation !== undefined) parts.push(`autoscale ${detail.autoScaleError ?? detail.autoScaleResults ?? ''}`.trim());
  if (detail.requeueCount !== undefined) parts.push(`requeue ${detail.requeueCount}`);
  if (event.change === 'retried') parts.push(`retry ${detail.retryCount}`);
  if (event.resource === 'task' && detail.nodeId !== undefined) parts.push(`on ${detail.nodeId}`);
  if (event.resource === 'fault') parts.push(...[event.poolId, event.nodeId, event.jobId, event.taskId].filter((part) => part !== undefined).map(String));
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}
