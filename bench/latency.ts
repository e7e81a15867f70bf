// 6. latency: add → running and add → completed for /bin/true on an idle
// node, over tasks added one at a time (each waited on before the next).
// Times are the server's own state transition times (running, then
// completed; millisecond resolution) less the client's clock just before the
// add request, on the same machine. Baseline, side by side: the baseline
// server, which starts a task's process as soon as its add request is stored.

import type { BatchServiceClient } from '@azure/batch';
import { addPool, waitUntil } from './batch-helpers.js';
import type { BenchContext } from './context.js';
import { figure, type SectionResult } from './figures.js';
import { median, now, p99, round } from './stats.js';

const wallClock = (): number => performance.timeOrigin + performance.now();

async function measure(batch: BatchServiceClient, jobId: string, count: number, prefix: string): Promise<{ running: number[]; completed: number[] }> {
  const running: number[] = [];
  const completed: number[] = [];
  for (let index = 0; index < count; index++) {
    const taskId = `${prefix}${index}`;
    const begin = wallClock();
    await batch.task.add(jobId, { id: taskId, commandLine: '/bin/true' });
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
    running.push(Math.max(0, ranAt - begin));
    completed.push(Math.max(0, doneAt - begin));
  }
  return { running, completed };
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
    lapis: { running: stats(lapisTimes.running), completed: stats(lapisTimes.completed) },
    baseline: { running: stats(baselineTimes.running), completed: stats(baselineTimes.completed) },
  };
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
      row('latency.running.p50', `add → running p50 (${count} tasks one at a time)`, result.lapis.running.p50, result.baseline.running.p50, {
        text: '≤ 5 ms',
        met: result.lapis.running.p50 <= 5,
        note,
      }),
      row('latency.running.p99', 'add → running p99', result.lapis.running.p99, result.baseline.running.p99),
      row('latency.completed.p50', 'add → completed p50', result.lapis.completed.p50, result.baseline.completed.p50),
      row('latency.completed.p99', 'add → completed p99', result.lapis.completed.p99, result.baseline.completed.p99),
    ],
    details: { tasks: count, ...result, samples: { lapis: lapisTimes, baseline: baselineTimes } },
    notes: ['Server timestamps have millisecond resolution: a figure under 1 ms reads as 0 or 1.'],
  };
}
