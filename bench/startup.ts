// 7. start-up and footprint: `lapis serve` from the compiled package
// (`npm run build` → dist/, as installed) to its ready line, the CPU it used
// to get there, and the resident set of the empty server two seconds later;
// runs alternating with a baseline started side by side the same way: a bare
// Node server (node:http listening, a better-sqlite3 database opened, a
// ready line), the least any Node server with SQLite starts in here. And
// `npm run quickstart` end to end as a user runs it (npm, the example on
// compiled dist/ with an in-process Lapis, the flow, stop: spawn → exit).
// The machine's load average is recorded beside them: on a shared machine
// the bare server's own wall time shows how far it inflates every figure.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchContext } from './context.js';
import { figure, type SectionResult } from './figures.js';
import { AZURE_QUICKSTART_MS } from './quickstart-bench.js';
import { processCpuMs, REPO_ROOT } from './server-process.js';
import { median, now, round, sleep, spread } from './stats.js';

const BARE_SERVER = `
import http from 'node:http';
import Database from 'better-sqlite3';
const db = new Database(process.argv[1] + '/bare.db');
db.pragma('journal_mode = WAL');
http.createServer((request, response) => response.end('ok')).listen(0, '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

interface Start {
  readyMs: number;
  cpuMs: number;
  rssMiB: number;
}

function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** Spawn → the first stdout line holding `ready`; CPU at that moment; RSS two seconds later; then SIGTERM. */
async function timeStart(args: string[]): Promise<Start> {
  const begin = now();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before ready: ${stderr}`)));
  });
  const readyMs = now() - begin;
  const cpuMs = processCpuMs(child.pid!);
  await sleep(2000);
  const rss = rssMiB(child.pid!);
  child.kill('SIGTERM');
  await exited;
  return { readyMs, cpuMs, rssMiB: rss };
}

function summary(starts: Start[]) {
  return {
    readyMs: median(starts.map((start) => start.readyMs)),
    cpuMs: median(starts.map((start) => start.cpuMs)),
    rssMiB: median(starts.map((start) => start.rssMiB)),
  };
}

export async function startupSection(context: BenchContext): Promise<SectionResult> {
  const started = now();
  const loadBefore = os.loadavg();
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
  const runs = context.options.quick ? 3 : 7;
  const lapis: Start[] = [];
  const bare: Start[] = [];
  for (let run = 0; run < runs; run++) {
    const dataDir = context.directory('startup');
    lapis.push(await timeStart([path.join(REPO_ROOT, 'dist', 'cli', 'main.js'), 'serve', '--port', '0', '--blob-port', '0', '--ready-json', '--log-level', 'warn', '--data', dataDir]));
    bare.push(await timeStart(['--input-type=module', '-e', BARE_SERVER, dataDir]));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const quickstartRuns = context.options.quick ? 1 : 3;
  const quickstart: number[] = [];
  for (let run = 0; run < quickstartRuns; run++) {
    const begin = now();
    execFileSync('npm', ['run', '--silent', 'quickstart'], { cwd: REPO_ROOT, stdio: 'ignore' });
    quickstart.push(now() - begin);
  }
  const ours = summary(lapis);
  const theirs = summary(bare);
  const quick = spread(quickstart);
  context.log(`  load average ${loadBefore.map((value) => value.toFixed(1)).join(' ')} before, ${os.loadavg().map((value) => value.toFixed(1)).join(' ')} after`);
  context.log(`  start-up: ready ${round(ours.readyMs)} ms (bare ${round(theirs.readyMs)}), CPU ${round(ours.cpuMs)} ms (bare ${round(theirs.cpuMs)}), RSS ${round(ours.rssMiB)} MiB (bare ${round(theirs.rssMiB)}); npm run quickstart ${round(quick.median)} ms`);
  const baselineLabel = 'bare Node server (http + better-sqlite3)';
  return {
    section: 'startup',
    seconds: (now() - started) / 1000,
    figures: [
      figure({
        section: 'startup',
        id: 'startup.ready',
        label: `\`lapis serve\` → ready, compiled dist/, median of ${runs}`,
        unit: 'ms',
        lapis: ours.readyMs,
        baseline: theirs.readyMs,
        baselineLabel,
        better: 'lower',
        target: { text: '≤ 0.5 s', met: ours.readyMs <= 500 },
      }),
      figure({ section: 'startup', id: 'startup.cpu', label: 'CPU time used by then', unit: 'ms', lapis: ours.cpuMs, baseline: theirs.cpuMs, baselineLabel, better: 'lower' }),
      figure({
        section: 'startup',
        id: 'startup.rss',
        label: 'empty server RSS, 2 s after ready',
        unit: 'MiB',
        lapis: ours.rssMiB,
        baseline: theirs.rssMiB,
        baselineLabel,
        better: 'lower',
        target: { text: '≤ 100 MiB', met: ours.rssMiB <= 100 },
      }),
      figure({
        section: 'startup',
        id: 'startup.quickstart',
        label: `\`npm run quickstart\` end to end (npm, the example on dist/, Lapis in process, the flow, stop), median of ${quick.n}`,
        unit: 'ms',
        lapis: quick.median,
        baseline: AZURE_QUICKSTART_MS,
        baselineLabel: 'Azure Batch (published, ~3 min)',
        better: 'lower',
        target: { text: '≤ 2 s', met: quick.median <= 2000 },
      }),
    ],
    details: { lapis, bare, quickstartMs: quickstart, loadAverage: { before: loadBefore, after: os.loadavg() } },
    notes: ['Wall times on a shared machine swing with its load; the CPU row and the ratios to the bare server, started alternately, hold better.'],
  };
}
