// GET /metrics in Prometheus's text format (prom-client). Counts of what the
// store holds are read when a scraper asks, from the task counts the store
// keeps per job (what Job_GetTaskCounts answers) and from the node list, so
// they are exact and cost nothing between scrapes. Durations come from the
// state change events as they pass: how long a task waited active before a
// node took it, and how long its runs took. API requests are timed by
// Batch operation (Task_Add, Pool_Resize…).
//
// Each server has its own registry: tests run several servers in one process.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LapisEvent } from '../core/events.js';
import type { JobState } from '../core/job.js';
import type { Store } from '../core/ports.js';
import { probeBlob, probeStore } from './health.js';

const JOB_STATES: JobState[] = ['active', 'disabling', 'disabled', 'enabling', 'terminating', 'completed', 'deleting'];
/** Seconds: from a fraction of a second (a warm local node) to a day (a long queue). */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400];
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export class LapisMetrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<'operation' | 'code'>;
  private readonly queued: Histogram;
  private readonly ran: Histogram<'result'>;
  private readonly events: Counter<'resource' | 'change'>;

  constructor(store: Store, blobEndpoint: string) {
    const registry = this.registry;
    collectDefaultMetrics({ register: registry, prefix: 'lapis_' });
    new Gauge({
      name: 'lapis_tasks',
      help: "Tasks by account and state, summed over the account's jobs as Job_GetTaskCounts counts them (preparing counts as running); completed tasks by result: succeeded or failed.",
      labelNames: ['account', 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { account, job } of store.jobs.listByState(JOB_STATES)) {
          const { tasks } = store.tasks.counts(account, job.id);
          this.inc({ account, state: 'active' }, tasks.active);
          this.inc({ account, state: 'running' }, tasks.running);
          this.inc({ account, state: 'succeeded' }, tasks.succeeded);
          this.inc({ account, state: 'failed' }, tasks.failed);
        }
      },
    });
    new Gauge({
      name: 'lapis_jobs',
      help: 'Jobs by account and state.',
      labelNames: ['account', 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { account, job } of store.jobs.listByState(JOB_STATES)) this.inc({ account, state: job.state });
      },
    });
    new Gauge({
      name: 'lapis_nodes',
      help: 'Compute nodes by account, pool and state.',
      labelNames: ['account', 'pool', 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { account, poolId, node } of store.nodes.listAll()) this.inc({ account, pool: poolId, state: node.state });
      },
    });
    new Gauge({
      name: 'lapis_store_up',
      help: '1 when the store answers a read, else 0.',
      registers: [registry],
      collect() {
        this.set(probeStore(store).status === 'up' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'lapis_blob_up',
      help: '1 when the blob endpoint takes connections, else 0.',
      registers: [registry],
      async collect() {
        this.set((await probeBlob(blobEndpoint)).status === 'up' ? 1 : 0);
      },
    });
    this.queued = new Histogram({
      name: 'lapis_task_queued_seconds',
      help: 'How long a task waited active (after it was added, retried by reactivation or requeued) before a node took it.',
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
    this.ran = new Histogram({
      name: 'lapis_task_run_seconds',
      help: 'How long a task ran, retries included, from running to completed, by result.',
      labelNames: ['result'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
    this.requests = new Histogram({
      name: 'lapis_api_request_seconds',
      help: 'Batch API requests by operation (the spec\'s operationId) and HTTP status; the _count series gives the request rate.',
      labelNames: ['operation', 'code'],
      buckets: REQUEST_BUCKETS,
      registers: [registry],
    });
    this.events = new Counter({
      name: 'lapis_events_total',
      help: 'State change events by resource and change (GET /lapis/events).',
      labelNames: ['resource', 'change'],
      registers: [registry],
    });
  }

  /** One state change event passed (EventLog.observe). */
  eventRecorded(event: LapisEvent): void {
    this.events.inc({ resource: event.resource, change: event.change });
    if (event.resource !== 'task' || event.change !== 'state') return;
    const { queuedMs, runMs, result } = event.detail ?? {};
    if (typeof queuedMs === 'number') this.queued.observe(queuedMs / 1000);
    if (typeof runMs === 'number') this.ran.observe({ result: String(result ?? 'unknown') }, runMs / 1000);
  }

  requestServed(operation: string, status: number, seconds: number): void {
    this.requests.observe({ operation, code: String(status) }, seconds);
  }

  async text(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
