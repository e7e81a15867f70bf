// `lapis watch --job JOB`: a job's progress on a terminal, live. The task
// counts (Job_GetTaskCounts) as a bar, redrawn whenever the account's event
// stream (GET /lapis/events) says one of the job's tasks changed, and a line
// for each failure, retry and requeue as it happens. It ends when every task
// of the job has completed (or the job has), and exits 1 if a task failed.

import type { BatchServiceClient } from '@azure/batch';
import type { Command } from 'commander';
import { addConnectionOptions, asClientCommand, batchClient, type ConnectionOptions } from './batch-connection.js';
import { followEvents, type StreamedEvent } from './event-stream-client.js';

const BAR_WIDTH = 30;
/** Counts are read at most this often, however many events come. */
const MIN_REFRESH_MS = 200;
/** And at least this often, in case the stream missed something (it opened after a change). */
const SAFETY_REFRESH_MS = 2_000;

interface Counts {
  active: number;
  running: number;
  completed: number;
  succeeded: number;
  failed: number;
}

export function addWatchCommand(program: Command): void {
  addConnectionOptions(
    program
      .command('watch')
      .description("Follow a job's task counts and failures live; ends when its tasks have completed, exiting 1 if any failed.")
      .requiredOption('--job <id>', 'the job to watch'),
  ).action(async (options: ConnectionOptions & { job: string }) => {
    await asClientCommand(async () => {
      process.exitCode = await watchJob(await batchClient(options), options.url, options.job, process.stdout);
    });
  });
}

export function progressLine(counts: Counts): string {
  const total = counts.active + counts.running + counts.completed;
  const filled = total === 0 ? 0 : Math.round((counts.completed / total) * BAR_WIDTH);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}`;
  return `[${bar}] ${counts.completed}/${total} completed (${counts.succeeded} succeeded, ${counts.failed} failed), ${counts.running} running, ${counts.active} active`;
}

function eventLine(event: StreamedEvent): string | undefined {
  const detail = event.detail ?? {};
  if (event.change === 'state' && event.state === 'completed' && detail.result === 'failure') {
    const why = [detail.exitCode === undefined ? undefined : `exit code ${detail.exitCode}`, detail.failureCode].filter(Boolean).join(', ');
    return `task ${event.taskId} failed${why ? `: ${why}` : ''}`;
  }
  if (event.change === 'retried') return `task ${event.taskId} failed and is retried (retry ${detail.retryCount})`;
  if (event.change === 'requeued') return `task ${event.taskId} requeued (its run was lost; requeue ${detail.requeueCount})`;
  return undefined;
}

async function watchJob(batch: BatchServiceClient, url: string, jobId: string, out: NodeJS.WriteStream): Promise<number> {
  await batch.job.get(jobId);
  const tty = out.isTTY === true;
  let shown = '';
  let jobCompleted = false;
  let counts: Counts | undefined;
  let reading: Promise<void> | undefined;
  let readAgain = false;
  const stream = new AbortController();
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let failure: unknown;

  const draw = (line: string) => {
    if (line === shown) return;
    shown = line;
    out.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  };
  const say = (line: string) => {
    out.write(tty ? `\r\x1b[2K${line}\n${shown}` : `${line}\n`);
  };
  const readCounts = async () => {
    counts = (await batch.job.getTaskCounts(jobId)).taskCounts;
    draw(progressLine(counts));
    const total = counts.active + counts.running + counts.completed;
    if (jobCompleted || (total > 0 && counts.active + counts.running === 0)) finish();
  };
  // One read at a time; events meanwhile ask for one more after it.
  const refresh = (): void => {
    if (reading) {
      readAgain = true;
      return;
    }
    reading = readCounts()
      .catch((error: unknown) => {
        failure = error;
        finish();
      })
      .then(() => new Promise((resolve) => setTimeout(resolve, MIN_REFRESH_MS)))
      .then(() => {
        reading = undefined;
        if (readAgain) {
          readAgain = false;
          refresh();
        }
      });
  };
  const onEvent = (event: StreamedEvent) => {
    if (event.jobId?.toLowerCase() !== jobId.toLowerCase()) return;
    if (event.resource === 'job') {
      if (event.state === 'completed' || event.change === 'deleted') jobCompleted = true;
    } else if (event.resource === 'task') {
      const line = eventLine(event);
      if (line) say(line);
    }
    refresh();
  };
  const following = followEvents(batch, url, onEvent, stream.signal, { jobId, onOpen: refresh }).catch((error: unknown) => {
    failure = error;
    finish();
  });
  const safety = setInterval(refresh, SAFETY_REFRESH_MS);
  await finished;
  clearInterval(safety);
  stream.abort();
  await following;
  await reading;
  if (failure) throw failure;
  if (tty) out.write('\n');
  return (counts?.failed ?? 0) > 0 ? 1 : 0;
}
