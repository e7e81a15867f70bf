// Servers under test as child processes: Lapis (`node bin/lapis.js serve`)
// and the bench's minimal baseline server. Both print `Batch URL: <url>` and
// then `ready` on stdout; the harness times spawn → ready and reads the
// process's peak resident set (VmHWM) from /proc.

import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_ACCOUNT } from '../src/config/config.js';
import { now } from './stats.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ServerProcess {
  kind: 'lapis' | 'baseline';
  pid: number;
  batchUrl: string;
  /** Spawn to the `ready` line, ms. */
  readyMs: number;
  batch: BatchServiceClient;
  /** Peak resident set so far (VmHWM), MiB; NaN if /proc is not there. */
  peakRssMiB(): number;
  /** Current resident set (VmRSS), MiB. */
  rssMiB(): number;
  /** CPU time (user + system) the process has used so far, ms; NaN if /proc is not there. */
  cpuMs(): number;
  /** The same for the process and every live process below it (node agents, launchers). */
  treeCpuMs(): number;
  stop(): Promise<void>;
}

export interface ServerOptions {
  dataDir: string;
  /** Lapis's --log-level. */
  logLevel?: string;
  /** Extra node flags for the server process, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** How long to wait for `ready`, ms. */
  timeoutMs?: number;
  /** More `lapis serve` flags (e.g. --node-runtime container). */
  serveArgs?: string[];
}

export function batchClient(batchUrl: string): BatchServiceClient {
  return new BatchServiceClient(new BatchSharedKeyCredentials(DEV_ACCOUNT.name, DEV_ACCOUNT.key), batchUrl);
}

/** utime + stime of a process from /proc/<pid>/stat, in ms (clock ticks of 10 ms on Linux). */
export function processCpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * utime + stime of a process and every process below it that is alive now
 * (for Lapis: the server, its node agents and their launchers), in ms. The
 * tasks' own time is not in it: a task that has ended counts in its
 * launcher's children's time, which is not added.
 */
export function processTreeCpuMs(rootPid: number): number {
  const roles = processTreeCpuByRole(rootPid);
  return roles.server + roles.agents + roles.launchers + roles.other;
}

export interface CpuByRole {
  server: number;
  /** Node agents (`agent-main`). */
  agents: number;
  /** Their task launchers (`launcher-process`). */
  launchers: number;
  other: number;
}

/** processTreeCpuMs split by what each process is, by its command line; NaN for all when the root is gone. */
export function processTreeCpuByRole(rootPid: number): CpuByRole {
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
      cpu.set(Number(entry), (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // Ended meanwhile.
    }
  }
  const inTree = (pid: number): boolean => {
    for (let current: number | undefined = pid; current !== undefined && current > 1; current = parents.get(current)) if (current === rootPid) return true;
    return false;
  };
  const roles: CpuByRole = { server: 0, agents: 0, launchers: 0, other: 0 };
  if (!cpu.has(rootPid)) return { server: Number.NaN, agents: Number.NaN, launchers: Number.NaN, other: Number.NaN };
  for (const [pid, ms] of cpu) {
    if (!inTree(pid)) continue;
    roles[pid === rootPid ? 'server' : roleOf(pid)] += ms;
  }
  return roles;
}

function roleOf(pid: number): 'agents' | 'launchers' | 'other' {
  try {
    const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (command.includes('launcher-process')) return 'launchers';
    if (command.includes('agent-main')) return 'agents';
  } catch {
    // Ended meanwhile.
  }
  return 'other';
}

function procStatusMiB(pid: number, field: string): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export async function startLapisProcess(options: ServerOptions): Promise<ServerProcess> {
  const args = [
    ...(options.nodeFlags ?? []),
    path.join(REPO_ROOT, 'bin', 'lapis.js'),
    'serve',
    '--port',
    '0',
    '--blob-port',
    '0',
    '--data',
    options.dataDir,
    '--log-level',
    options.logLevel ?? 'warn',
    ...(options.serveArgs ?? []),
  ];
  return startProcess('lapis', args, options.timeoutMs);
}

/** A Lapis server whose nodes finish every run at once (bench/instant-nodes-server.ts): the server's own cost per task. */
export async function startInstantNodesProcess(options: ServerOptions): Promise<ServerProcess> {
  const args = [...(options.nodeFlags ?? []), '--import', 'tsx', path.join(REPO_ROOT, 'bench', 'instant-nodes-server.ts'), '--data', options.dataDir];
  return startProcess('lapis', args, options.timeoutMs);
}

export async function startBaselineProcess(options: ServerOptions): Promise<ServerProcess> {
  const args = [...(options.nodeFlags ?? []), '--import', 'tsx', path.join(REPO_ROOT, 'bench', 'baseline-server.ts'), '--data', options.dataDir];
  return startProcess('baseline', args, options.timeoutMs);
}

async function startProcess(kind: ServerProcess['kind'], args: string[], timeoutMs = 60_000): Promise<ServerProcess> {
  const started = now();
  const child: ChildProcess = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start the ${kind} server`);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    // Keep the last few kB for error messages; drain the rest.
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const { batchUrl, readyMs } = await new Promise<{ batchUrl: string; readyMs: number }>((resolve, reject) => {
    let url = '';
    let buffered = '';
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`the ${kind} server was not ready within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n${stderr}`));
    };
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (settled) return; // drained, not kept
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        const match = /^Batch URL:\s+(\S+)/.exec(line);
        if (match) url = match[1] as string;
        if (line === 'ready') {
          settled = true;
          clearTimeout(timer);
          if (!url) reject(new Error(`the ${kind} server printed no Batch URL`));
          else resolve({ batchUrl: url, readyMs: now() - started });
          return;
        }
      }
    });
    child.once('exit', (code, signal) => fail(new Error(`the ${kind} server exited (${code ?? signal}) before it was ready`)));
  });

  let lastPeak = Number.NaN;
  let lastRss = Number.NaN;
  return {
    kind,
    pid,
    batchUrl,
    readyMs,
    batch: batchClient(batchUrl),
    peakRssMiB() {
      const value = procStatusMiB(pid, 'VmHWM');
      if (!Number.isNaN(value)) lastPeak = value;
      return lastPeak;
    },
    rssMiB() {
      const value = procStatusMiB(pid, 'VmRSS');
      if (!Number.isNaN(value)) lastRss = value;
      return lastRss;
    },
    cpuMs: () => processCpuMs(pid),
    treeCpuMs: () => processTreeCpuMs(pid),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export interface CpuShare {
  wallMs: number;
  /** CPU used by the bench process (the @azure/batch client), ms and share of one core. */
  clientCpuMs: number;
  clientCores: number;
  /** CPU used by the server process, ms and share of one core. */
  serverCpuMs: number;
  serverCores: number;
  /** CPU used by the server and every process below it (node agents, launchers; not the tasks themselves), ms. */
  treeCpuMs: number;
  /** The same by role. */
  treeCpuByRole: CpuByRole;
}

/** Starts counting wall and CPU time of the client (this process) and a server; the returned function stops and reports. */
export function cpuMeter(server: ServerProcess): () => CpuShare {
  const wallStart = now();
  const clientStart = process.cpuUsage();
  const serverStart = server.cpuMs();
  const treeStart = server.treeCpuMs();
  const rolesStart = processTreeCpuByRole(server.pid);
  return () => {
    const roles = processTreeCpuByRole(server.pid);
    const treeCpuByRole: CpuByRole = {
      server: roles.server - rolesStart.server,
      agents: roles.agents - rolesStart.agents,
      launchers: roles.launchers - rolesStart.launchers,
      other: roles.other - rolesStart.other,
    };
    const wallMs = now() - wallStart;
    const client = process.cpuUsage(clientStart);
    const clientCpuMs = (client.user + client.system) / 1000;
    const serverCpuMs = server.cpuMs() - serverStart;
    return { wallMs, clientCpuMs, clientCores: clientCpuMs / wallMs, serverCpuMs, serverCores: serverCpuMs / wallMs, treeCpuMs: server.treeCpuMs() - treeStart, treeCpuByRole };
  };
}
