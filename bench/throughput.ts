// 2. throughput: N trivial tasks (/bin/true) in one job on one pool with S
// total slots (nodes × taskSlotsPerNode), added with addCollection, timed
// from the first add to the last completion seen by the client. Baselines,
// side by side: bench/direct-spawn.ts starting the same N processes at the
// same concurrency, each with its own new directory and stdout/stderr files;
// and `xargs -P S` starting them with nothing around them. The CPU Lapis
// spends per task (server, agents, launchers; not the tasks' own) is set
// against direct spawn's (its own process, not the tasks').

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { isRoot } from '../src/config/config.js';
import { findOsUser } from '../src/server/os-users.js';
import { addPool, addTasks, slotLayout, trivialTasks, waitForCompleted, waitUntil } from './batch-helpers.js';
import type { BenchContext } from './context.js';
import { figure, type Figure, type SectionResult } from './figures.js';
import { cpuMeter, REPO_ROOT, type CpuShare, type ServerProcess } from './server-process.js';
import { now, round } from './stats.js';

const run = promisify(execFile);

export interface ThroughputPoint {
  slots: number;
  nodes: number;
  slotsPerNode: number;
  tasks: number;
  lapisMs: number;
  lapisTasksPerS: number;
  baselineMs: number;
  baselineTasksPerS: number;
  /** Direct spawn's own CPU per task (its process, not the tasks'). */
  baselineCpuMsPerTask: number;
  xargsTasksPerS: number;
  /** Lapis wall time / baseline wall time. */
  wallRatio: number;
  /** How busy the Lapis server process (one JavaScript thread) and the client were during the Lapis run. */
  lapisCpu: CpuShare;
}

/** The same user Lapis runs non-admin tasks as (nobody when root), so both sides pay the same setuid. */
export function taskUserIds(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const user = findOsUser(process.env.LAPIS_TASK_USER ?? 'nobody');
  return user ? { uid: user.uid, gid: user.gid } : undefined;
}

export async function directSpawn(context: Pick<BenchContext, 'directory'>, tasks: number, concurrency: number): Promise<number> {
  return (await directSpawnMeasured(context, tasks, concurrency)).ms;
}

/** Direct spawn's wall time, and its own CPU (not the tasks'). */
export async function directSpawnMeasured(context: Pick<BenchContext, 'directory'>, tasks: number, concurrency: number): Promise<{ ms: number; cpuMs: number }> {
  const directory = context.directory(`direct-spawn-${concurrency}`);
  const ids = taskUserIds();
  const args = ['--import', 'tsx', path.join(REPO_ROOT, 'bench', 'direct-spawn.ts'), '--tasks', String(tasks), '--concurrency', String(concurrency), '--dir', directory];
  if (ids) args.push('--uid', String(ids.uid), '--gid', String(ids.gid));
  try {
    const { stdout } = await run(process.execPath, args, { cwd: REPO_ROOT, maxBuffer: 1 << 20 });
    const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { ms: number; cpuMs: number; failed: number };
    if (result.failed > 0) throw new Error(`direct spawn: ${result.failed} of ${tasks} processes failed`);
    return { ms: result.ms, cpuMs: result.cpuMs };
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

/** `xargs -P S` starting N `/bin/true`: the machine's own rate of starting processes, with nothing around them. */
export async function xargsRun(tasks: number, concurrency: number): Promise<number> {
  const begin = now();
  await run('sh', ['-c', `seq ${tasks} | xargs -P ${concurrency} -n 1 /bin/true`], { maxBuffer: 1 << 20 });
  return now() - begin;
}

/** Runs N tasks on a fresh pool of S slots; resolves with the wall time from the first add to the last completion. */
export async function lapisRun(server: ServerProcess, label: string, tasks: number, slots: number, parallel: number): Promise<{ ms: number; cpu: CpuShare }> {
  const { batch } = server;
  const { nodes, slotsPerNode } = slotLayout(slots);
  const poolId = `${label}-pool`;
  const jobId = `${label}-job`;
  await addPool(batch, poolId, nodes, slotsPerNode);
  await batch.job.add({ id: jobId, poolInfo: { poolId } });
  const list = trivialTasks(tasks);
  const meter = cpuMeter(server);
  const begin = now();
  await addTasks(batch, jobId, list, parallel);
  // Polling getTaskCounts costs the server a scan of the job's tasks: poll less often the more there are (error ≤ ~1%).
  const interval = Math.min(100, Math.max(20, Math.round(tasks / 100)));
  const counts = await waitForCompleted(batch, jobId, tasks, Math.max(120_000, tasks * 100), interval);
  const ms = now() - begin;
  const cpu = meter();
  if (counts.failed > 0) throw new Error(`${counts.failed} of ${tasks} tasks failed on Lapis`);
  // Clean up outside the timed part: the job ends, the pool goes (its node directories with it).
  await batch.job.terminate(jobId);
  await batch.pool.deleteMethod(poolId);
  await waitUntil(
    async () => {
      try {
        await batch.pool.get(poolId);
        return undefined;
      } catch {
        return true;
      }
    },
    `pool ${poolId} to be deleted`,
    120_000,
    50,
  );
  await batch.job.deleteMethod(jobId);
  return { ms, cpu };
}

export async function throughputSection(context: BenchContext): Promise<SectionResult> {
  const started = now();
  const { lapis } = await context.sharedServers();
  const { tasks, parallel } = context.options;
  const points: ThroughputPoint[] = [];
  for (const slots of context.options.slots) {
    const point = await measurePoint(context, lapis, `tp${slots}`, slots);
    const { nodes, slotsPerNode, lapisCpu } = point;
    points.push(point);
    context.log(
      `  S = ${String(slots).padStart(2)} (${nodes} × ${slotsPerNode}): Lapis ${round(point.lapisTasksPerS)} tasks/s, direct spawn ${round(point.baselineTasksPerS)} tasks/s, xargs ${round(point.xargsTasksPerS)} tasks/s, wall ratio ${round(point.wallRatio)}; Lapis server busy ${round(lapisCpu.serverCores * 100)}% of a core, client ${round(lapisCpu.clientCores * 100)}%; Lapis CPU per task (server, agents, launchers) ${round(lapisCpu.treeCpuMs / tasks)} ms`,
    );
  }
  const containers = await containerNodesPoint(context);
  const figures: Figure[] = points.flatMap((point) => {
    const note = point.tasks < 10_000 ? `N = ${point.tasks}, the issue's N is 10,000` : undefined;
    const layout = `S = ${point.slots} (${point.nodes} × ${point.slotsPerNode}), N = ${point.tasks}`;
    const rows = [
      figure({
        section: 'throughput',
        id: `throughput.s${point.slots}`,
        label: `throughput, ${layout}`,
        unit: 'tasks/s',
        lapis: point.lapisTasksPerS,
        baseline: point.baselineTasksPerS,
        baselineLabel: 'direct spawn',
        better: 'higher',
        target: point.slots === 8 ? { text: '≥ 0.9 × direct spawn', met: point.lapisTasksPerS >= 0.9 * point.baselineTasksPerS, note } : undefined,
      }),
    ];
    if (point.slots !== 8) return rows;
    rows.push(
      figure({
        section: 'throughput',
        id: `throughput.s${point.slots}.xargs`,
        label: `throughput against xargs -P ${point.slots}, ${layout}`,
        unit: 'tasks/s',
        lapis: point.lapisTasksPerS,
        baseline: point.xargsTasksPerS,
        baselineLabel: `xargs -P ${point.slots}`,
        better: 'higher',
        target: { text: '≥ 0.5 × xargs', met: point.lapisTasksPerS >= 0.5 * point.xargsTasksPerS, note },
      }),
      figure({
        section: 'throughput',
        id: `throughput.s${point.slots}.cpu`,
        label: `CPU per trivial task, server + agents + launchers (not the task's own), ${layout}`,
        unit: 'ms',
        lapis: point.lapisCpu.treeCpuMs / point.tasks,
        baseline: point.baselineCpuMsPerTask,
        baselineLabel: 'direct spawn (its own process)',
        better: 'lower',
        target: { text: '≤ 1.0 ms', met: point.lapisCpu.treeCpuMs / point.tasks <= 1.0, note },
      }),
    );
    return rows;
  });
  if (containers) {
    figures.push(
      figure({
        section: 'throughput',
        id: `throughput.container.s${containers.slots}`,
        label: `throughput on container nodes, S = ${containers.slots} (${containers.nodes} × ${containers.slotsPerNode}), N = ${containers.tasks}`,
        unit: 'tasks/s',
        lapis: containers.lapisTasksPerS,
        baseline: containers.baselineTasksPerS,
        baselineLabel: 'direct spawn',
        better: 'higher',
      }),
    );
  }
  return {
    section: 'throughput',
    seconds: (now() - started) / 1000,
    figures,
    details: { points, containers, parallelRequests: parallel, taskUser: taskUserIds() ?? 'the bench user' },
    notes: [
      'Lapis is timed from the first addCollection to the first getTaskCounts (polled every 20–100 ms, by N) that shows all N completed; the baseline from its first spawn to its last exit.',
    ],
  };
}

/** The image container nodes run on in the bench: the test image (scripts/build-test-node-image.sh), when it is there. */
const CONTAINER_IMAGE = 'localhost/lapis-test/debian:bookworm';
const CONTAINER_SLOTS = 8;

/** The same run on container nodes (a server of their own), beside direct spawn again; undefined without Podman and the image. */
async function containerNodesPoint(context: BenchContext): Promise<ThroughputPoint | undefined> {
  if (!context.options.containers) {
    context.log('  container nodes: skipped (--no-containers)');
    return undefined;
  }
  try {
    execFileSync('podman', ['image', 'exists', CONTAINER_IMAGE], { stdio: 'ignore' });
  } catch {
    context.log(`  container nodes: skipped (needs podman and ${CONTAINER_IMAGE}: scripts/build-test-node-image.sh)`);
    return undefined;
  }
  const server = await context.startLapis('containers', undefined, ['--node-runtime', 'container', '--node-image', `canonical/0001-com-ubuntu-server-focal/20_04-lts=${CONTAINER_IMAGE}`]);
  const point = await measurePoint(context, server, `ct${CONTAINER_SLOTS}`, CONTAINER_SLOTS);
  await server.stop();
  const { nodes, slotsPerNode, lapisCpu, tasks } = point;
  context.log(
    `  container nodes, S = ${CONTAINER_SLOTS} (${nodes} × ${slotsPerNode}): Lapis ${round(point.lapisTasksPerS)} tasks/s, direct spawn ${round(point.baselineTasksPerS)} tasks/s, wall ratio ${round(point.wallRatio)}; Lapis CPU per task (server, agents, launchers) ${round(lapisCpu.treeCpuMs / tasks)} ms`,
  );
  return point;
}

/** Direct spawn, then the same N tasks on a Lapis pool of S slots, side by side. */
async function measurePoint(context: BenchContext, server: ServerProcess, label: string, slots: number): Promise<ThroughputPoint> {
  const { tasks, parallel } = context.options;
  const { nodes, slotsPerNode } = slotLayout(slots);
  const baseline = await directSpawnMeasured(context, tasks, slots);
  const xargsMs = await xargsRun(tasks, slots);
  const { ms: lapisMs, cpu: lapisCpu } = await lapisRun(server, label, tasks, slots, parallel);
  return {
    slots,
    nodes,
    slotsPerNode,
    tasks,
    lapisMs,
    lapisTasksPerS: tasks / (lapisMs / 1000),
    baselineMs: baseline.ms,
    baselineTasksPerS: tasks / (baseline.ms / 1000),
    baselineCpuMsPerTask: baseline.cpuMs / tasks,
    xargsTasksPerS: tasks / (xargsMs / 1000),
    wallRatio: lapisMs / baseline.ms,
    lapisCpu,
  };
}
