// 5. scale: one job with M tasks added, not run (its pool has no nodes), on a
// server of its own (a child process with its own data directory): the
// server's peak resident set (VmHWM from /proc), task get p50/p99 over random
// ids, the first page of `$filter=state eq 'active'` p50, getTaskCounts p50,
// and the time from starting the server again on that data directory to its
// `ready`. Baseline, side by side: the baseline server with the same M tasks.

import type { BenchContext } from './context.js';
import { figure, type SectionResult } from './figures.js';
import type { ServerProcess } from './server-process.js';
import { addTasks, trivialTasks } from './batch-helpers.js';
import { RawBatchClient } from './raw-client.js';
import { prepareIdleJob, sampleMs } from './submit-list.js';
import { median, now, p99, round } from './stats.js';

export interface ScaleResult {
  tasks: number;
  addMs: number;
  addTasksPerS: number;
  getP50Ms: number;
  getP99Ms: number;
  filteredPageP50Ms: number;
  countsP50Ms: number;
  /** The same three through @azure/batch, which parses every task of a page through its mappers. */
  sdk: { getP50Ms: number; getP99Ms: number; filteredPageP50Ms: number; countsP50Ms: number };
  /** Peak RSS after each 10,000 tasks added, MiB. */
  rssCurve: { tasks: number; peakRssMiB: number }[];
  peakRssMiB: number;
  restartReadyMs: number;
  firstStartReadyMs: number;
}

async function measureScale(
  context: BenchContext,
  start: (dataDir?: string) => Promise<ServerProcess>,
  dataDir: string,
  tasks: number,
): Promise<ScaleResult> {
  let server = await start(dataDir);
  const firstStartReadyMs = server.readyMs;
  const jobId = await prepareIdleJob(server, 'scale');
  const chunk = 10_000;
  const rssCurve: ScaleResult['rssCurve'] = [];
  const begin = now();
  for (let from = 0; from < tasks; from += chunk) {
    const list = trivialTasks(Math.min(chunk, tasks - from)).map((task, index) => ({ ...task, id: `t${from + index}` }));
    await addTasks(server.batch, jobId, list, context.options.parallel);
    rssCurve.push({ tasks: from + list.length, peakRssMiB: server.peakRssMiB() });
  }
  const addMs = now() - begin;
  const { samples } = context.options;
  const querySamples = context.options.quick ? 10 : 50;
  const randomId = () => `t${Math.floor(Math.random() * tasks)}`;
  // The server's figures, through the lean client; then what @azure/batch users see.
  const raw = new RawBatchClient(server.batchUrl);
  const ok = async (request: Promise<{ status: number; text: string }>) => {
    const { status, text } = await request;
    if (status !== 200) throw new Error(`answered ${status}: ${text.slice(0, 200)}`);
  };
  const job = encodeURIComponent(jobId);
  const filter = encodeURIComponent("state eq 'active'");
  const gets = await sampleMs(samples, () => ok(raw.request('GET', `/jobs/${job}/tasks/${randomId()}`)));
  const pages = await sampleMs(querySamples, () => ok(raw.request('GET', `/jobs/${job}/tasks?$filter=${filter}`)));
  const counts = await sampleMs(querySamples, () => ok(raw.request('GET', `/jobs/${job}/taskcounts`)));
  raw.close();
  const sdkGets = await sampleMs(Math.min(samples, 200), () => server.batch.task.get(jobId, randomId()));
  const sdkPages = await sampleMs(querySamples, () => server.batch.task.list(jobId, { taskListOptions: { filter: "state eq 'active'" } }));
  const sdkCounts = await sampleMs(querySamples, () => server.batch.job.getTaskCounts(jobId));
  const peakRssMiB = server.peakRssMiB();
  await server.stop();
  server = await start(dataDir);
  const restartReadyMs = server.readyMs;
  const after = (await server.batch.job.getTaskCounts(jobId)).taskCounts;
  await server.stop();
  if (after?.active !== tasks) throw new Error(`after the restart the job has ${after?.active} active tasks, not ${tasks}`);
  return {
    tasks,
    addMs,
    addTasksPerS: tasks / (addMs / 1000),
    getP50Ms: median(gets),
    getP99Ms: p99(gets),
    filteredPageP50Ms: median(pages),
    countsP50Ms: median(counts),
    sdk: { getP50Ms: median(sdkGets), getP99Ms: p99(sdkGets), filteredPageP50Ms: median(sdkPages), countsP50Ms: median(sdkCounts) },
    rssCurve,
    peakRssMiB,
    restartReadyMs,
    firstStartReadyMs,
  };
}

export async function scaleSection(context: BenchContext): Promise<SectionResult> {
  const started = now();
  const tasks = context.options.scale;
  const lapis = await measureScale(context, (dir) => context.startLapis('scale', dir), context.directory('lapis-scale'), tasks);
  context.log(
    `  Lapis, ${tasks} tasks: added at ${round(lapis.addTasksPerS)} tasks/s, peak RSS ${round(lapis.peakRssMiB)} MiB, get p50/p99 ${round(lapis.getP50Ms)}/${round(lapis.getP99Ms)} ms, filtered page ${round(lapis.filteredPageP50Ms)} ms, counts ${round(lapis.countsP50Ms)} ms, restart ${round(lapis.restartReadyMs)} ms`,
  );
  const baseline = await measureScale(context, (dir) => context.startBaseline('scale', dir), context.directory('baseline-scale'), tasks);
  context.log(
    `  baseline:          added at ${round(baseline.addTasksPerS)} tasks/s, peak RSS ${round(baseline.peakRssMiB)} MiB, get p50/p99 ${round(baseline.getP50Ms)}/${round(baseline.getP99Ms)} ms, filtered page ${round(baseline.filteredPageP50Ms)} ms, counts ${round(baseline.countsP50Ms)} ms, restart ${round(baseline.restartReadyMs)} ms`,
  );
  const note = tasks < 1_000_000 ? `${tasks} tasks, the issue's is 1,000,000` : undefined;
  const row = (id: string, label: string, unit: string, lapisValue: number, baselineValue: number, target?: { text: string; met: boolean }) =>
    figure({
      section: 'scale',
      id,
      label,
      unit,
      lapis: lapisValue,
      baseline: baselineValue,
      baselineLabel: 'baseline server',
      better: 'lower',
      target: target ? { ...target, note } : undefined,
    });
  return {
    section: 'scale',
    seconds: (now() - started) / 1000,
    figures: [
      row('scale.rss', `scale: server peak RSS with ${tasks} tasks in one job`, 'MiB', lapis.peakRssMiB, baseline.peakRssMiB, {
        text: '≤ 250 MiB',
        met: lapis.peakRssMiB <= 250,
      }),
      row('scale.get.p50', 'task get p50', 'ms', lapis.getP50Ms, baseline.getP50Ms),
      row('scale.get.p99', 'task get p99', 'ms', lapis.getP99Ms, baseline.getP99Ms, { text: '≤ 5 ms', met: lapis.getP99Ms <= 5 }),
      row('scale.filter.p50', "first page of $filter=state eq 'active' p50", 'ms', lapis.filteredPageP50Ms, baseline.filteredPageP50Ms, {
        text: '≤ 50 ms',
        met: lapis.filteredPageP50Ms <= 50,
      }),
      row('scale.filter.sdk.p50', "the same first page through @azure/batch p50", 'ms', lapis.sdk.filteredPageP50Ms, baseline.sdk.filteredPageP50Ms),
      row('scale.counts.p50', 'getTaskCounts p50', 'ms', lapis.countsP50Ms, baseline.countsP50Ms),
      row('scale.restart', 'restart on that data dir → ready', 'ms', lapis.restartReadyMs, baseline.restartReadyMs, {
        text: '≤ 2 s',
        met: lapis.restartReadyMs <= 2000,
      }),
      figure({
        section: 'scale',
        id: 'scale.add',
        label: `adding the ${tasks} tasks (10,000 at a time, ${context.options.parallel} requests in flight)`,
        unit: 'tasks/s',
        lapis: lapis.addTasksPerS,
        baseline: baseline.addTasksPerS,
        baselineLabel: 'baseline server',
        better: 'higher',
      }),
    ],
    details: { lapis, baseline },
    notes: [
      'Task get, the filtered page and getTaskCounts are timed through the lean client of bench/raw-client.ts (the server, not the SDK); the details also give them through @azure/batch.',
      'Restart time is from spawning `node bin/lapis.js serve` (tsx compiles the TypeScript on the fly) to its `ready` line; the baseline server is also TypeScript run through tsx.',
    ],
  };
}
