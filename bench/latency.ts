// 6. latency: add → process started, add → running and add → completed on an
// idle node, over tasks added one at a time (each waited on before the next).
// The task is `/bin/date +%s%N`: the process itself writes the time it
// started (nanoseconds, to its stdout.txt), read back after it completes; the
// running and completed times are the server's own state transition times
// (millisecond resolution). Each is less the client's clock just before the
// add request, on the same machine. Baseline, side by side: the baseline
// server, which starts a task's process as soon as its add request is stored.

import type { BatchServiceClient } from '@azure/batch';
import { addPool, waitUntil } from './batch-helpers.js';
import type { BenchContext } from './context.js';
import { figure, type SectionResult } from './figures.js';
import { median, now, p99, round } from './stats.js';
import { readStream } from '../src/testkit/builders.js';

const wallClock = (): number => performance.timeOrigin + performance.now();

/** Prints the wall-clock time it runs at, in nanoseconds since the epoch: the moment the task's process started, to within its exec. */
const STAMP_COMMAND = '/bin/date +%s%N';

async function measure(batch: BatchServiceClient, jobId: string, count: number, prefix: string): Promise<{ started: number[]; running: number[]; completed: number[] }> {
  const started: number[] = [];
  const running: number[] = [];
  const completed: number[] = [];
  for (let index = 0; index < count; index++) {
    const taskId = `${prefix}${index}`;
    const begin = wallClock();
    await batch.task.add(jobId, { id: taskId, commandLine: STAMP_COMMAND });
    const task = await waitUntil(
      async () => {
        const current = await batch.task.get(jobId, taskId);
        return current.state === 'completed' ? current : undefined;
      },
      `task ${taskId} to complete`,
      30_000,
      5,
    );
    if (task.executionInfo?.result !== 'success' && task.executionInfo?.result !== undefined) throw new Error(`task ${taskId} failed`);
    const ranAt = task.previousStateTransitionTime?.getTime();
    const doneAt = task.stateTransitionTime?.getTime();
    if (ranAt === undefined || doneAt === undefined || task.previousState !== 'running') throw new Error(`task ${taskId} has no running → completed transition`);
    const stamp = (await readStream((await batch.file.getFromTask(jobId, taskId, 'stdout.txt')).readableStreamBody)).trim();
    if (!/^\d{19}$/.test(stamp)) throw new Error(`task ${taskId} printed ${JSON.stringify(stamp)}, not a time in nanoseconds`);
    started.push(Number(BigInt(stamp) / 1000n) / 1000 - begin);
    running.push(Math.max(0, ranAt - begin));
    completed.push(Math.max(0, doneAt - begin));
  }
  return { started, running, completed };
}

export async function latencySection(context: BenchContext): Promise<SectionResult> {
  const started = now();
  const { lapis, baseline } = await context.sharedServers();
  const count = context.options.latency;
  await addPool(lapis.batch, 'latency-pool', 1, 1);
  await lapis.batch.job.add({ id: 'latency-job', poolInfo: { poolId: 'latency-pool' } });
  // A few warm-up tasks on each side, not counted: the first requests compile code paths.
  await measure(lapis.batch, 'latency-job', Math.min(5, count), 'warm');
  await measure(baseline.batch, 'latency', Math.min(5, count), 'warm');
  const lapisTimes = await measure(lapis.batch, 'latency-job', count, 'lat');
  const baselineTimes = await measure(baseline.batch, 'latency', count, 'lat');
  await lapis.batch.job.terminate('latency-job');
  const stats = (values: number[]) => ({ p50: median(values), p99: p99(values) });
  const result = {
    lapis: { started: stats(lapisTimes.started), running: stats(lapisTimes.running), completed: stats(lapisTimes.completed) },
    baseline: { started: stats(baselineTimes.started), running: stats(baselineTimes.running), completed: stats(baselineTimes.completed) },
  };
  context.log(
    `  add → process started p50/p99: Lapis ${round(result.lapis.started.p50)}/${round(result.lapis.started.p99)} ms, baseline ${round(result.baseline.started.p50)}/${round(result.baseline.started.p99)} ms`,
  );
  context.log(
    `  add → running p50/p99: Lapis ${round(result.lapis.running.p50)}/${round(result.lapis.running.p99)} ms, baseline ${round(result.baseline.running.p50)}/${round(result.baseline.running.p99)} ms`,
  );
  context.log(
    `  add → completed p50/p99: Lapis ${round(result.lapis.completed.p50)}/${round(result.lapis.completed.p99)} ms, baseline ${round(result.baseline.completed.p50)}/${round(result.baseline.completed.p99)} ms`,
  );
  const note = count < 1000 ? `${count} tasks, the issue's is 1,000` : undefined;
  const row = (id: string, label: string, lapisValue: number, baselineValue: number, target?: { text: string; met: boolean; note?: string }) =>
    figure({ section: 'latency', id, label, unit: 'ms', lapis: lapisValue, baseline: baselineValue, baselineLabel: 'baseline server', better: 'lower', target });
  return {
    section: 'latency',
    seconds: (now() - started) / 1000,
    figures: [
      row('latency.started.p50', `add → process started p50 (${count} tasks one at a time, the time each process printed)`, result.lapis.started.p50, result.baseline.started.p50, {
        text: '≤ 5 ms',
        met: result.lapis.started.p50 <= 5,
        note,
      }),
      row('latency.started.p99', 'add → process started p99', result.lapis.started.p99, result.baseline.started.p99, {
        text: '≤ 20 ms',
        met: result.lapis.started.p99 <= 20,
        note,
      }),
      row('latency.running.p50', 'add → running p50 (the server records the task running)', result.lapis.running.p50, result.baseline.running.p50),
      row('latency.running.p99', 'add → running p99', result.lapis.running.p99, result.baseline.running.p99),
      row('latency.completed.p50', 'add → completed p50', result.lapis.completed.p50, result.baseline.completed.p50),
      row('latency.completed.p99', 'add → completed p99', result.lapis.completed.p99, result.baseline.completed.p99),
    ],
    details: { tasks: count, ...result, samples: { lapis: lapisTimes, baseline: baselineTimes } },
    notes: [
      'add → process started is the time the task\'s process printed (`date +%s%N`, so after its exec) less the client\'s clock before the add request.',
      'Server timestamps have millisecond resolution: a running or completed figure under 1 ms reads as 0 or 1.',
    ],
  };
}
