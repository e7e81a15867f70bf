// Hands the end of a run (task, start task, preparation) from a node to the
// services that record it. Not the recording itself: that is the services'.
//
// Why in batches: the reports that arrive in one tick of the event loop (from
// every node) are recorded together, in one transaction, once the tick's
// input is read; each resolves when recorded, and only then does its node
// forget it (the agent's acknowledgement waits for it), so a server killed
// before the commit loses nothing. One commit per report cost more than the
// rest of a trivial task's recording.
//
// Why retry: the agent reports a run's end once. If the store cannot take it
// now (SQLITE_FULL on a full disk), dropping it would leave the task running
// forever and throwing would bring the server down. So when a batch fails,
// each of its outcomes is offered alone (one the store refuses must not hold
// up the others), and one still refused is kept in memory and offered again
// with a short backoff, capped so it lands within a few seconds of space
// coming back; one small write every few seconds costs nothing. Stopping
// cancels the pending retries (a stopped server must not be kept alive by
// them); an outcome still pending then is not lost, because a restart takes
// up every task the store still has running (records the outcome the agent
// kept, or requeues the task).

import type { TaskRunReport } from '../core/ports.js';

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 4_000;

/** The wait before retry number `attempt` (0-based): doubling from 250 ms, at most 4 s. */
export function outcomeRetryDelayMs(attempt: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(attempt, 10));
}

export interface OutcomeLogger {
  error(details: object, message: string): void;
}

export class OutcomeDelivery {
  private stopped = false;
  private readonly retries = new Set<NodeJS.Timeout>();
  private batch: { report: TaskRunReport; taken: () => void }[] = [];

  constructor(
    private readonly record: (reports: TaskRunReport[]) => void,
    private readonly logger: OutcomeLogger,
  ) {}

  /**
   * Records the report with the others of this tick. Resolves once the
   * server holds it: recorded, or kept to be offered again. Never rejects;
   * never resolves once stopped (the node keeps the report for the next server).
   */
  deliver(report: TaskRunReport): Promise<void> {
    if (this.stopped) return new Promise(() => undefined);
    return new Promise((taken) => {
      this.batch.push({ report, taken });
      if (this.batch.length === 1) setImmediate(() => this.flush());
    });
  }

  stop(): void {
    this.stopped = true;
    for (const retry of this.retries) clearTimeout(retry);
    this.retries.clear();
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    if (this.stopped) return;
    try {
      this.record(batch.map((entry) => entry.report));
    } catch {
      for (const { report } of batch) this.offer(report, 0);
    }
    for (const { taken } of batch) taken();
  }

  private offer(report: TaskRunReport, attempt: number): void {
    if (this.stopped) return;
    try {
      this.record([report]);
    } catch (error) {
      this.logger.error({ err: error, taskId: report.run.taskId, attempt }, 'could not record a run outcome; retrying');
      const retry = setTimeout(() => {
        this.retries.delete(retry);
        this.offer(report, attempt + 1);
      }, outcomeRetryDelayMs(attempt));
      retry.unref();
      this.retries.add(retry);
    }
  }
}
