// What Lapis tells about itself: one event per state change of a pool, node,
// job or task, in one account, and (lapis serve --faults) one when a fault is
// added, fires or is removed. The server observes every write of those
// resources in one place (server/observed-store.ts), logs each event and keeps
// the recent ones per account for GET /lapis/events (api/lapis/). Events are
// made from the record being written, never from another read.

export type EventResource = 'pool' | 'node' | 'job' | 'task' | 'fault';

/**
 * - `added`: the resource was created (its first state);
 * - `state`: its state changed (for a pool, also its allocation state or targets: a resize);
 * - `evaluated`: a pool's autoscale formula was evaluated and changed nothing else (its results or error in the detail;
 *   an evaluation that resizes the pool is a `state` event carrying them);
 * - `retried`: a task's run failed and runs again (retryCount went up; it stays running);
 * - `requeued`: a task's run was lost (its node failed, the server restarted) and the task is active again;
 * - `fired`: a fault acted (on the run, node or pool the event names);
 * - `deleted`: the resource is gone (a fault: removed).
 */
export type EventChange = 'added' | 'state' | 'evaluated' | 'retried' | 'requeued' | 'fired' | 'deleted';

export interface LapisEvent {
  /** Increases with every event of this server process; a client resumes after the last id it saw. */
  id: number;
  /** When the change happened (the resource's state transition time, or now for a deletion). */
  time: string;
  account: string;
  resource: EventResource;
  change: EventChange;
  poolId?: string;
  nodeId?: string;
  jobId?: string;
  taskId?: string;
  state?: string;
  previousState?: string;
  /** What explains the change: an exit code, a failure code, a pool's targets, a retry count… never a secret. */
  detail?: Record<string, string | number | boolean | undefined>;
}

/** An event before the feed numbers it. */
export type StateChange = Omit<LapisEvent, 'id'>;

export interface EventSubscription {
  close(): void;
}

/** The recent events of each account, and the ones still to come. */
export interface EventFeed {
  /** The account's events kept in memory with an id above `since`, oldest first. */
  recent(account: string, since: number): LapisEvent[];
  /** The id of the latest event of any account; 0 before the first. */
  latestId(): number;
  /** The id of the oldest event still kept for the account, if any: a client that resumes from before it missed some. */
  oldestId(account: string): number | undefined;
  /** Calls `listener` with each new event of the account until closed. */
  subscribe(account: string, listener: (event: LapisEvent) => void): EventSubscription;
}
