// What starting a process in a control group of its own costs, the way the
// launcher does it (launcher-process.mjs: step into the run's group, spawn,
// step back), after a quiet gap and back to back: writing a pid to
// cgroup.procs takes the kernel's cgroup_threadgroup_rwsem for writing, which
// waits for an RCU grace period unless another migration ran moments before.
// Each start: mkdir the group, write this process's pid to its cgroup.procs,
// spawn /bin/true, write the pid back to a home group, wait for the exit,
// remove the group. Root and a writable cgroup v2 hierarchy, as Lapis's
// per-run groups need.
//
//   npx tsx bench/cgroup-migration.ts [--starts 100] [--gaps 5,40]

import { spawn } from 'node:child_process';
import { mkdtempSync, rmdirSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findCgroupRoot } from '../src/agent/cgroups.js';
import { median, p99 } from './stats.js';

const argument = (name: string, fallback: string): string => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
};
const starts = Number(argument('starts', '100'));
const gaps = argument('gaps', '5,40').split(',').map(Number);

const scratch = mkdtempSync(path.join(os.tmpdir(), 'lapis-cgroup-migration-'));
const root = findCgroupRoot(scratch);
if (!root) {
  console.error('no writable cgroup v2 hierarchy with cgroup.kill (root needed)');
  process.exit(1);
}
const home = path.join(root, 'launcher');
writeFileSync(path.join(home, 'cgroup.procs'), String(process.pid));
mkdirSync(path.join(root, 'node'), { recursive: true });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
for (const gap of gaps) {
  const enter: number[] = [];
  const leave: number[] = [];
  for (let index = 0; index < starts; index++) {
    const group = path.join(root, 'node', `run-${gap}-${index}`);
    mkdirSync(group);
    const before = performance.now();
    writeFileSync(path.join(group, 'cgroup.procs'), String(process.pid));
    const entered = performance.now();
    const child = spawn('/bin/true', [], { stdio: 'ignore', detached: true });
    const spawned = performance.now();
    writeFileSync(path.join(home, 'cgroup.procs'), String(process.pid));
    leave.push(performance.now() - spawned);
    enter.push(entered - before);
    await new Promise((resolve) => child.once('exit', resolve));
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        rmdirSync(group);
        break;
      } catch {
        await sleep(2);
      }
    }
    await sleep(gap);
  }
  const show = (values: number[]) => `p50 ${median(values).toFixed(2)} ms, p99 ${p99(values).toFixed(2)} ms`;
  console.log(`gap ${gap} ms between starts: step into the run's group ${show(enter)}; step back ${show(leave)}`);
}
writeFileSync(path.join(path.dirname(root), 'cgroup.procs'), String(process.pid));
rmdirSync(path.join(root, 'node'));
rmdirSync(home);
rmdirSync(root);
rmSync(scratch, { recursive: true, force: true });
