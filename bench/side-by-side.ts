// Two (or more) checkouts of Lapis measured side by side, alternating, on the
// same trivial tasks: the way to show what a change does on a shared, noisy
// machine. Each round runs direct spawn once (process nodes only), then each
// checkout's server in turn (the order alternates by round): a warm-up of 200
// tasks, then N `/bin/true` tasks on S slots (throughput.ts's lapisRun), with
// the CPU of the server process and of its whole tree (agents, launchers).
// `--nodes instant` runs the servers with nodes that finish every run at once
// (instant-nodes-server.ts): the server's own cost and ceiling. The tree's
// CPU is also split by role (server, agents, launchers). Each
// checkout's own bench/ code drives it, so a checkout needs this file's
// bench/ (copy it into an older one).
//
//   npx tsx bench/side-by-side.ts --checkouts /tmp/before,. --tasks 2000 --slots 8 --rounds 3 --out results.json [--nodes instant]

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeScratch } from './scratch.js';

const { values } = parseArgs({
  options: {
    checkouts: { type: 'string' },
    tasks: { type: 'string', default: '2000' },
    slots: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    nodes: { type: 'string', default: 'agents' },
    out: { type: 'string' },
  },
});
if (!values.checkouts || !values.out) throw new Error('--checkouts A,B and --out FILE are required');
const checkouts = values.checkouts.split(',').map((checkout) => path.resolve(checkout));
const [tasks, slots, rounds] = [Number(values.tasks), Number(values.slots), Number(values.rounds)];
const instant = values.nodes === 'instant';
const commits = Object.fromEntries(checkouts.map((checkout) => [checkout, execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: checkout, encoding: 'utf8' }).trim()]));

const context = makeScratch('lapis-side-by-side-');

interface Measured {
  tasksPerS: number;
  serverCpuMsPerTask: number;
  treeCpuMsPerTask: number;
  /** The tree's CPU per task by role (server, agents, launchers, other), where the checkout's bench reports it. */
  treeCpuMsPerTaskByRole?: Record<string, number>;
  serverCores: number;
}
const results: { round: number; directSpawnTasksPerS?: number; checkouts: Record<string, Measured> }[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? checkouts : [...checkouts].reverse();
    const row: (typeof results)[number] = { round, checkouts: {} };
    if (!instant) {
      const { directSpawn } = await import(path.join(checkouts[0] as string, 'bench', 'throughput.ts'));
      row.directSpawnTasksPerS = tasks / ((await directSpawn(context, tasks, slots)) / 1000);
    }
    for (const checkout of order) {
      const processes = await import(path.join(checkout, 'bench', 'server-process.ts'));
      const { lapisRun } = await import(path.join(checkout, 'bench', 'throughput.ts'));
      const start = instant ? processes.startInstantNodesProcess : processes.startLapisProcess;
      const server = await start({ dataDir: context.directory('data'), logLevel: 'info' });
      try {
        await lapisRun(server, `warm${round}`, 200, slots, 8);
        const { ms, cpu } = await lapisRun(server, `run${round}`, tasks, slots, 8);
        const byRole = cpu.treeCpuByRole ? Object.fromEntries(Object.entries(cpu.treeCpuByRole as Record<string, number>).map(([role, ms]) => [role, ms / tasks])) : undefined;
        row.checkouts[checkout] = {
          tasksPerS: tasks / (ms / 1000),
          serverCpuMsPerTask: cpu.serverCpuMs / tasks,
          treeCpuMsPerTask: cpu.treeCpuMs / tasks,
          ...(byRole ? { treeCpuMsPerTaskByRole: byRole } : {}),
          serverCores: cpu.serverCores,
        };
      } finally {
        await server.stop();
      }
    }
    results.push(row);
    console.log(JSON.stringify(row));
    fs.writeFileSync(values.out, `${JSON.stringify({ command: process.argv.slice(2).join(' '), machine: { cores: os.availableParallelism(), load: os.loadavg() }, tasks, slots, nodes: values.nodes, checkouts, commits, results }, null, 2)}\n`);
  }
} finally {
  context.remove();
}
