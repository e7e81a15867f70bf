// 4. submit and list: N tasks added through addCollection (100 a request,
// several requests in flight) to a job whose pool has no nodes, so nothing
// runs; then every task listed through the pages (1000 a page); then
// getTaskCounts latency. Baseline, side by side: the same client calls
// against the baseline server.

import { addTasks, listAll, trivialTasks } from './batch-helpers.js';
import type { BenchContext } from './context.js';
import { figure, type SectionResult } from './figures.js';
import { collectionBodies, RawBatchClient } from './raw-client.js';
import { cpuMeter, type CpuShare, type ServerProcess } from './server-process.js';
import { median, now, p99, round } from './stats.js';

export interface SubmitListResult {
  tasks: number;
  addMs: number;
  addTasksPerS: number;
  listMs: number;
  listTasksPerS: number;
  pages: number;
  countsP50Ms: number;
  countsP99Ms: number;
  /** Who was busy while adding and while listing: the client (bench process) or the server. */
  addCpu: CpuShare;
  listCpu: CpuShare;
  /** The same through the lean client (bench/raw-client.ts), into a second job. */
  raw: { addTasksPerS: number; listTasksPerS: number; addCpu: CpuShare; listCpu: CpuShare };
}

export async function sampleMs(count: number, work: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let index = 0; index < count; index++) {
    const begin = now();
    await work();
    samples.push(now() - begin);
  }
  return samples;
}

/** A job on Lapis whose pool has no nodes (tasks stay active); the baseline server needs no job. */
export async function prepareIdleJob(server: ServerProcess, label: string): Promise<string> {
  const jobId = `${label}-job`;
  if (server.kind === 'lapis') {
    await server.batch.pool.add({
      id: `${label}-pool`,
      vmSize: 'STANDARD_DS1_V2',
      virtualMachineConfiguration: {
        imageReference: { publisher: 'canonical', offer: '0001-com-ubuntu-server-focal', sku: '20_04-lts', version: 'latest' },
        nodeAgentSKUId: 'batch.node.ubuntu 20.04',
      },
      targetDedicatedNodes: 0,
    });
    await server.batch.job.add({ id: jobId, poolInfo: { poolId: `${label}-pool` } });
  }
  return jobId;
}

export async function submitAndList(server: ServerProcess, jobId: string, tasks: number, parallel: number, countSamples: number): Promise<SubmitListResult> {
  const { batch } = server;
  const list = trivialTasks(tasks);
  let meter = cpuMeter(server);
  let begin = now();
  await addTasks(batch, jobId, list, parallel);
  const addMs = now() - begin;
  const addCpu = meter();
  meter = cpuMeter(server);
  begin = now();
  const listed = await listAll(batch, jobId);
  const listMs = now() - begin;
  const listCpu = meter();
  if (listed.tasks !== tasks) throw new Error(`listed ${listed.tasks} tasks of ${tasks}`);
  const counts = await sampleMs(countSamples, () => batch.job.getTaskCounts(jobId));

  const raw = new RawBatchClient(server.batchUrl);
  const rawJob = await prepareIdleJob(server, 'submitraw');
  const bodies = collectionBodies(tasks, 'r');
  meter = cpuMeter(server);
  begin = now();
  await raw.addCollections(rawJob, bodies, parallel);
  const rawAddMs = now() - begin;
  const rawAddCpu = meter();
  meter = cpuMeter(server);
  begin = now();
  const rawListed = await raw.listAll(rawJob);
  const rawListMs = now() - begin;
  const rawListCpu = meter();
  raw.close();
  if (rawListed.tasks !== tasks) throw new Error(`listed ${rawListed.tasks} tasks of ${tasks} (raw)`);
  return {
    tasks,
    addMs,
    addTasksPerS: tasks / (addMs / 1000),
    listMs,
    listTasksPerS: tasks / (listMs / 1000),
    pages: listed.pages,
    countsP50Ms: median(counts),
    countsP99Ms: p99(counts),
    addCpu,
    listCpu,
    raw: { addTasksPerS: tasks / (rawAddMs / 1000), listTasksPerS: tasks / (rawListMs / 1000), addCpu: rawAddCpu, listCpu: rawListCpu },
  };
}

export async function submitSection(context: BenchContext): Promise<SectionResult> {
  const started = now();
  const { lapis, baseline } = await context.sharedServers();
  const { submit: tasks, parallel } = context.options;
  const countSamples = context.options.quick ? 20 : 100;
  const lapisResult = await submitAndList(lapis, await prepareIdleJob(lapis, 'submit'), tasks, parallel, countSamples);
  const baselineResult = await submitAndList(baseline, await prepareIdleJob(baseline, 'submit'), tasks, parallel, countSamples);
  const busy = (cpu: CpuShare) => `client ${round(cpu.clientCores * 100)}% / server ${round(cpu.serverCores * 100)}%`;
  const line = (what: string, lapisRate: number, lapisCpu: CpuShare, baselineRate: number, baselineCpu: CpuShare) =>
    context.log(`  ${what.padEnd(16)} Lapis ${round(lapisRate)} tasks/s (${busy(lapisCpu)}), baseline ${round(baselineRate)} tasks/s (${busy(baselineCpu)})`);
  line('submit, SDK:', lapisResult.addTasksPerS, lapisResult.addCpu, baselineResult.addTasksPerS, baselineResult.addCpu);
  line('submit, raw:', lapisResult.raw.addTasksPerS, lapisResult.raw.addCpu, baselineResult.raw.addTasksPerS, baselineResult.raw.addCpu);
  line('list, SDK:', lapisResult.listTasksPerS, lapisResult.listCpu, baselineResult.listTasksPerS, baselineResult.listCpu);
  line('list, raw:', lapisResult.raw.listTasksPerS, lapisResult.raw.listCpu, baselineResult.raw.listTasksPerS, baselineResult.raw.listCpu);
  context.log(`  getTaskCounts p50: Lapis ${round(lapisResult.countsP50Ms)} ms, baseline ${round(baselineResult.countsP50Ms)} ms`);
  const note = tasks < 100_000 ? `N = ${tasks}, the issue's N is 100,000` : undefined;
  return {
    section: 'submit',
    seconds: (now() - started) / 1000,
    figures: [
      figure({
        section: 'submit',
        id: 'submit.add',
        label: `submit: addCollection via @azure/batch, N = ${tasks}, ${parallel} requests in flight`,
        unit: 'tasks/s',
        lapis: lapisResult.addTasksPerS,
        baseline: baselineResult.addTasksPerS,
        baselineLabel: 'baseline server',
        better: 'higher',
        target: { text: '≥ 20,000 tasks/s', met: lapisResult.addTasksPerS >= 20_000, note },
      }),
      figure({
        section: 'submit',
        id: 'submit.add.raw',
        label: 'submit: addCollection via the lean client (bodies serialized once)',
        unit: 'tasks/s',
        lapis: lapisResult.raw.addTasksPerS,
        baseline: baselineResult.raw.addTasksPerS,
        baselineLabel: 'baseline server',
        better: 'higher',
        target: { text: '≥ 20,000 tasks/s', met: lapisResult.raw.addTasksPerS >= 20_000, note },
      }),
      figure({
        section: 'submit',
        id: 'submit.list',
        label: `list all N via @azure/batch, pages of 1000 (${lapisResult.pages} pages)`,
        unit: 'tasks/s',
        lapis: lapisResult.listTasksPerS,
        baseline: baselineResult.listTasksPerS,
        baselineLabel: 'baseline server',
        better: 'higher',
        target: { text: '≥ 100,000 tasks/s', met: lapisResult.listTasksPerS >= 100_000, note },
      }),
      figure({
        section: 'submit',
        id: 'submit.list.raw',
        label: 'list all N via the lean client (JSON.parse only)',
        unit: 'tasks/s',
        lapis: lapisResult.raw.listTasksPerS,
        baseline: baselineResult.raw.listTasksPerS,
        baselineLabel: 'baseline server',
        better: 'higher',
        target: { text: '≥ 100,000 tasks/s', met: lapisResult.raw.listTasksPerS >= 100_000, note },
      }),
      figure({
        section: 'submit',
        id: 'submit.counts',
        label: `getTaskCounts p50 at N tasks (p99 ${round(lapisResult.countsP99Ms)} ms)`,
        unit: 'ms',
        lapis: lapisResult.countsP50Ms,
        baseline: baselineResult.countsP50Ms,
        baselineLabel: 'baseline server',
        better: 'lower',
      }),
    ],
    details: { lapis: lapisResult, baseline: baselineResult, parallelRequests: parallel },
    notes: [
      'Both sides are driven by the same clients in the bench process: @azure/batch (which spends several ms of CPU per 100-task request on its mappers) and the lean client of bench/raw-client.ts (bodies serialized once, answers only JSON.parse-d). The details give the CPU share of client and server during each phase.',
    ],
  };
}
