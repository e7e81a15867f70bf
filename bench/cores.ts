// Throughput on 1 core against 2 (issue 16: "report 1 core vs 2 cores for
// Lapis and for the baselines"): each round runs, for each CPU set in turn
// (`taskset -c 0`, then `-c 0,1`; the order alternates by round), a child
// process pinned to that set which measures N `/bin/true` tasks at S slots
// three ways: `xargs -P S`, direct spawn (bench/direct-spawn.ts: a directory,
// stdout and stderr per task, as the task user) and Lapis (a fresh `lapis
// serve`, S slots, throughput.ts's lapisRun, after a warm-up of 200). The
// pinning holds for everything the child starts (the server, its agents and
// launchers, the tasks, the bench client), so the machine is 1 or 2 cores.
//
//   npx tsx bench/cores.ts --tasks 1000 --slots 8 --rounds 2 --out FILE.json

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { makeScratch } from './scratch.js';
import { REPO_ROOT, startLapisProcess } from './server-process.js';
import { directSpawn, lapisRun, xargsRun } from './throughput.js';

const run = promisify(execFile);

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '1000' },
    slots: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    cpus: { type: 'string', default: '0;0,1' },
    out: { type: 'string' },
    child: { type: 'boolean', default: false },
  },
});
const [tasks, slots, rounds] = [Number(values.tasks), Number(values.slots), Number(values.rounds)];

interface Measured {
  xargsTasksPerS: number;
  directSpawnTasksPerS: number;
  lapisTasksPerS: number;
  /** CPU of the Lapis server and every process below it (agents, launchers), per task. */
  lapisTreeCpuMsPerTask: number;
}

async function measureHere(): Promise<Measured> {
  const context = makeScratch('lapis-cores-');
  try {
    const xargsMs = await xargsRun(tasks, slots);
    const directMs = await directSpawn(context, tasks, slots);
    const server = await startLapisProcess({ dataDir: context.directory('data'), logLevel: 'info' });
    try {
      await lapisRun(server, 'warm', 200, slots, 8);
      const { ms, cpu } = await lapisRun(server, 'run', tasks, slots, 8);
      return { xargsTasksPerS: tasks / (xargsMs / 1000), directSpawnTasksPerS: tasks / (directMs / 1000), lapisTasksPerS: tasks / (ms / 1000), lapisTreeCpuMsPerTask: cpu.treeCpuMs / tasks };
    } finally {
      await server.stop();
    }
  } finally {
    context.remove();
  }
}

if (values.child) {
  process.stdout.write(`${JSON.stringify(await measureHere())}\n`);
} else {
  if (!values.out) throw new Error('--out FILE is required');
  const cpuSets = (values.cpus as string).split(';');
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  const results: { round: number; cpus: string; load: number; measured: Measured }[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const cpus of round % 2 === 0 ? cpuSets : [...cpuSets].reverse()) {
      const args = ['-c', cpus, process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'bench', 'cores.ts'), '--child', '--tasks', String(tasks), '--slots', String(slots)];
      const { stdout } = await run('taskset', args, { cwd: REPO_ROOT, maxBuffer: 1 << 20 });
      const measured = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Measured;
      const row = { round, cpus, load: os.loadavg()[0] as number, measured };
      results.push(row);
      console.log(JSON.stringify(row));
      fs.writeFileSync(values.out, `${JSON.stringify({ command: process.argv.slice(2).join(' '), commit, machine: { cores: os.availableParallelism() }, tasks, slots, results }, null, 2)}\n`);
    }
  }
}
