// Hands the end of a run (task, start task, preparation) from a node to the
// services that record it. Not the recording itself: that is the services'.
//
// Why retry: the agent reports a run's end once. If the store cannot take it
// now (SQLITE_FULL on a full disk), dropping it would leave the task running
// forever and throwing would bring the server down. So the outcome is kept in
// memory and offered again with a short backoff, capped so it lands within a
// few seconds of space coming back; one small write every few seconds costs
// nothing. Stopping cancels the pending retries (a stopped server must not be
// kept alive by them); an outcome still pending then is not lost, because a
// restart takes up every task the store still has running (records the
// outcome the agent kept, or requeues the task).

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

  constructor(
    private readonly record: (report: TaskRunReport) => void,
    private readonly logger: OutcomeLogger,
  ) {}

  deliver(report: TaskRunReport, attempt = 0): void {
    if (this.stopped) return;
    try {
      this.record(report);
    } catch (error) {
      this.logger.error({ err: error, taskId: report.run.taskId, attempt }, 'could not record a run outcome; retrying');
      const retry = setTimeout(() => {
        this.retries.delete(retry);
        this.deliver(report, attempt + 1);
      }, outcomeRetryDelayMs(attempt));
      retry.unref();
      this.retries.add(retry);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const retry of this.retries) clearTimeout(retry);
    this.retries.clear();
  }
}
