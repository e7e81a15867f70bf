// The direct-spawn baseline: the least a node must do to run N tasks at a
// given concurrency — for each, a new directory with a working directory and
// stdout.txt / stderr.txt opened for the process, then the process started
// (in its own process group, as the task user when run as root, as Lapis
// does) and waited for. Run by the bench as a child process:
//   node --import tsx bench/direct-spawn.ts --tasks N --concurrency S --dir DIR [--uid U --gid G]
// Prints one JSON line: { tasks, concurrency, ms, cpuMs, failed }; cpuMs is this
// process's own CPU (user + system) while it started them, not the tasks'.

import { spawn } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';

const options = new Command('direct-spawn')
  .requiredOption('--tasks <n>', 'how many processes')
  .requiredOption('--concurrency <n>', 'how many at once')
  .requiredOption('--dir <dir>', 'where the task directories go')
  .option('--command <path>', 'the program each task runs', '/bin/true')
  .option('--uid <uid>', 'run the processes as this user id')
  .option('--gid <gid>', 'and group id')
  .parse(process.argv)
  .opts<{ tasks: string; concurrency: string; dir: string; command: string; uid?: string; gid?: string }>();

const tasks = Number(options.tasks);
const concurrency = Number(options.concurrency);
const uid = options.uid === undefined ? undefined : Number(options.uid);
const gid = options.gid === undefined ? undefined : Number(options.gid);

function runOne(index: number): Promise<number> {
  const directory = path.join(options.dir, `task${index}`);
  const workingDirectory = path.join(directory, 'wd');
  mkdirSync(workingDirectory, { recursive: true });
  if (uid !== undefined && gid !== undefined) chownSync(workingDirectory, uid, gid);
  const stdout = openSync(path.join(directory, 'stdout.txt'), 'a', 0o644);
  const stderr = openSync(path.join(directory, 'stderr.txt'), 'a', 0o644);
  return new Promise<number>((resolve) => {
    const child = spawn(options.command, [], { cwd: workingDirectory, stdio: ['ignore', stdout, stderr], detached: true, uid, gid });
    const done = (code: number) => {
      closeSync(stdout);
      closeSync(stderr);
      resolve(code);
    };
    child.once('error', () => done(127));
    child.once('exit', (code) => done(code ?? 128));
  });
}

const started = performance.now();
const cpuBefore = process.cpuUsage();
let next = 0;
let failed = 0;
await Promise.all(
  Array.from({ length: Math.min(concurrency, tasks) }, async () => {
    while (next < tasks) {
      const code = await runOne(next++);
      if (code !== 0) failed++;
    }
  }),
);
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(`${JSON.stringify({ tasks, concurrency, ms, cpuMs: (cpu.user + cpu.system) / 1000, failed })}\n`);
