// 3. against a real scheduler: the same trivial tasks on a single-node Slurm
// cluster on this machine — Debian's slurm-wlm and munge (installed by
// scripts/install-slurm.sh, which the bench runs only with --install-slurm),
// started here with a configuration of the bench's own in a scratch
// directory (its own munge socket and key, its own ports), stopped after. For
// each declared CPU count in turn (--slurm-cpus, 2, 8 and 32 by default, in
// one run), with the tuned configuration (SLURM_TUNED; --slurm-sweep first
// measures every configuration tried): one warm-up job, then one job array
// and single `sbatch --wrap` jobs, each job writing its own stdout/stderr
// files, then Lapis the same N on a pool of as many slots. If Slurm is
// missing or cannot start, the section says why and the bench goes on.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BenchContext } from './context.js';
import { figure, type SectionResult } from './figures.js';
import { REPO_ROOT } from './server-process.js';
import { lapisRun } from './throughput.js';
import { inParallel, now, round, sleep } from './stats.js';

const exec = promisify(execFile);

class SlurmUnavailable extends Error {}

async function which(program: string): Promise<string | undefined> {
  for (const directory of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin']) {
    const candidate = path.join(directory, program);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

const INSTALL_SCRIPT = path.join(REPO_ROOT, 'scripts', 'install-slurm.sh');

/** Slurm must be there; scripts/install-slurm.sh installs it, run by the bench only when asked (--install-slurm). */
async function ensureSlurm(install: boolean, log: (line: string) => void): Promise<void> {
  const needed = ['slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'munged', 'mungekey'];
  const missingNow = async () => (await Promise.all(needed.map(async (name) => ((await which(name)) ? undefined : name)))).filter((name) => name !== undefined);
  const missing = await missingNow();
  if (missing.length === 0) return;
  if (!install) throw new SlurmUnavailable(`Slurm is not installed (${missing.join(', ')} missing): run scripts/install-slurm.sh, or the bench with --install-slurm`);
  log('  installing slurm-wlm and munge (scripts/install-slurm.sh)…');
  try {
    await exec(INSTALL_SCRIPT, [], { timeout: 900_000, maxBuffer: 32 << 20 });
  } catch (error) {
    throw new SlurmUnavailable(`scripts/install-slurm.sh failed: ${lastLine((error as { stderr?: string }).stderr ?? (error as Error).message)}`);
  }
  const still = await missingNow();
  if (still.length > 0) throw new SlurmUnavailable(`still missing after scripts/install-slurm.sh: ${still.join(', ')}`);
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((line) => line.trim() !== '').pop() ?? text;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One Slurm configuration: the settings it sets over BASE_SETTINGS, and why it is tried. */
export interface SlurmTuning {
  name: string;
  why: string;
  settings: Record<string, string>;
}

/** What every configuration shares; a tuning overrides any of these keys or adds its own. */
const BASE_SETTINGS: Record<string, string> = {
  ProctrackType: 'proctrack/linuxproc',
  TaskPlugin: 'task/none',
  MpiDefault: 'none',
  SwitchType: 'switch/none',
  SelectType: 'select/cons_tres',
  SelectTypeParameters: 'CR_CPU',
  SchedulerType: 'sched/backfill',
  JobAcctGatherType: 'jobacct_gather/none',
  AccountingStorageType: 'accounting_storage/none',
  JobCompType: 'jobcomp/none',
  MinJobAge: '2',
};

const NO_DELAYS = 'batch_sched_delay=0,sched_min_interval=0,max_rpc_cnt=0';

/**
 * The configurations the sweep (--slurm-sweep) tries, at 8 CPUs. In Slurm
 * 22.05 a finished batch job frees its CPUs at once but only queues a
 * scheduling pass, which slurmctld's background thread runs once a second;
 * the pass that starts the next jobs at once comes from the node's
 * MESSAGE_EPILOG_COMPLETE, which slurmd sends only when an Epilog is
 * configured, and which `defer` (matched as a substring, so `defer_batch`
 * too) turns back into a queued pass. bench/README.md has the measurements.
 */
export const SLURM_TUNINGS: SlurmTuning[] = [
  { name: 'defaults', why: "Slurm's scheduling defaults (batch_sched_delay=3, no epilog)", settings: {} },
  {
    name: 'previous',
    why: "the bench's configuration before the sweep; 22.05 reads defer_batch as defer",
    settings: { SchedulerParameters: `batch_sched_delay=0,sched_min_interval=0,defer_batch,max_rpc_cnt=0` },
  },
  { name: 'no-delays', why: 'no batching delay, no minimum interval, no defer: jobs start at submission when CPUs are free', settings: { SchedulerParameters: NO_DELAYS } },
  {
    name: 'epilog+defer',
    why: 'an epilog, so slurmd sends MESSAGE_EPILOG_COMPLETE, but defer queues the pass it would run',
    settings: { SchedulerParameters: `${NO_DELAYS},defer`, Epilog: '/bin/true' },
  },
  { name: 'epilog', why: 'an epilog (/bin/true) and no defer: each job end runs a scheduling pass at once', settings: { SchedulerParameters: NO_DELAYS, Epilog: '/bin/true' } },
  {
    name: 'epilog+builtin',
    why: 'as epilog, with the FIFO scheduler instead of backfill',
    settings: { SchedulerParameters: NO_DELAYS, Epilog: '/bin/true', SchedulerType: 'sched/builtin' },
  },
  {
    name: 'epilog+pgid',
    why: 'as epilog, tracking processes by process group instead of scanning /proc',
    settings: { SchedulerParameters: NO_DELAYS, Epilog: '/bin/true', ProctrackType: 'proctrack/pgid' },
  },
  {
    name: 'epilog+bf1',
    why: 'as epilog, with backfill every second over the whole queue',
    settings: { SchedulerParameters: `${NO_DELAYS},bf_interval=1,bf_continue,default_queue_depth=1000`, Epilog: '/bin/true' },
  },
  {
    name: 'htc-guide',
    why: "the example SchedulerParameters of Slurm's High Throughput Computing guide (for large clusters), sched/builtin, with the epilog",
    settings: {
      SchedulerParameters: 'batch_sched_delay=20,bf_continue,bf_interval=300,bf_min_age_reserve=10800,bf_resolution=600,bf_yield_interval=1000000,partition_job_depth=500,sched_max_job_start=200,sched_min_interval=2000000',
      SchedulerType: 'sched/builtin',
      Epilog: '/bin/true',
    },
  },
];

/** The configuration the comparison uses: the sweep's best (bench/README.md). */
export const SLURM_TUNED = SLURM_TUNINGS.find((tuning) => tuning.name === 'epilog+pgid') as SlurmTuning;

/** The sweep's size: small enough that the slowest configurations take under a minute a mode. */
const SWEEP = { cpus: 8, tasks: 200 };

export class SlurmCluster {
  readonly env: NodeJS.ProcessEnv;
  version = '';
  private readonly conf: string;

  constructor(
    private readonly directory: string,
    private readonly cpus: number,
    private readonly maxTasks: number,
    private readonly tuning: SlurmTuning,
    /** Logs at debug2 with millisecond times: how bench/README.md traced one job's path. */
    private readonly debug = false,
  ) {
    this.conf = path.join(directory, 'slurm.conf');
    this.env = { ...process.env, SLURM_CONF: this.conf };
  }

  private get mungeSocket(): string {
    return path.join(this.directory, 'munge', 'munge.sock');
  }

  async start(): Promise<void> {
    const d = this.directory;
    for (const sub of ['munge', 'state', 'spool', 'log', 'out']) fs.mkdirSync(path.join(d, sub), { recursive: true });
    // munged wants its socket directory reachable but not writable by others, and a key only it reads.
    fs.chmodSync(d, 0o755);
    fs.chmodSync(path.join(d, 'munge'), 0o711);
    const key = path.join(d, 'munge', 'munge.key');
    await exec('mungekey', ['--create', `--keyfile=${key}`]).catch(async () => {
      fs.writeFileSync(key, Buffer.from(Array.from({ length: 128 }, () => Math.floor(Math.random() * 256))), { mode: 0o600 });
    });
    fs.chmodSync(key, 0o600);
    await exec('munged', [
      '--force',
      `--socket=${this.mungeSocket}`,
      `--key-file=${key}`,
      `--pid-file=${path.join(d, 'munge', 'munged.pid')}`,
      `--log-file=${path.join(d, 'munge', 'munged.log')}`,
      `--seed-file=${path.join(d, 'munge', 'munged.seed')}`,
    ]).catch((error: Error & { stderr?: string }) => {
      throw new SlurmUnavailable(`munged did not start: ${lastLine(error.stderr ?? error.message)}`);
    });

    const host = os.hostname().split('.')[0] as string;
    const [controllerPort, daemonPort] = [await freePort(), await freePort()];
    fs.writeFileSync(
      this.conf,
      [
        '# Written by the Lapis bench: a single-node cluster in a scratch directory.',
        'ClusterName=lapisbench',
        `SlurmctldHost=${host}`,
        'SlurmUser=root',
        'SlurmdUser=root',
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${this.mungeSocket}`,
        `SlurmctldPort=${controllerPort}`,
        `SlurmdPort=${daemonPort}`,
        `StateSaveLocation=${path.join(d, 'state')}`,
        `SlurmdSpoolDir=${path.join(d, 'spool')}`,
        `SlurmctldPidFile=${path.join(d, 'slurmctld.pid')}`,
        `SlurmdPidFile=${path.join(d, 'slurmd.pid')}`,
        `SlurmctldLogFile=${path.join(d, 'log', 'slurmctld.log')}`,
        `SlurmdLogFile=${path.join(d, 'log', 'slurmd.log')}`,
        ...Object.entries({ ...BASE_SETTINGS, ...this.tuning.settings }).map(([key, value]) => `${key}=${value}`),
        ...(this.debug ? ['SlurmctldDebug=debug2', 'SlurmdDebug=debug2', 'LogTimeFormat=iso8601_ms', 'DebugFlags=Agent,SelectType'] : []),
        'MailProg=/bin/true',
        'ReturnToService=2',
        `MaxJobCount=${Math.max(10_000, 2 * this.maxTasks + 100)}`,
        `MaxArraySize=${Math.max(1001, this.maxTasks + 1)}`,
        // As many CPUs as the Lapis pool has slots, whatever the machine has.
        'SlurmdParameters=config_overrides',
        `NodeName=${host} CPUs=${this.cpus} State=UNKNOWN`,
        `PartitionName=bench Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
        '',
      ].join('\n'),
    );
    const daemon = async (program: string) => {
      await exec(program, ['-f', this.conf], { env: this.env }).catch((error: Error & { stderr?: string }) => {
        throw new SlurmUnavailable(`${program} did not start: ${lastLine(error.stderr ?? error.message)}`);
      });
    };
    await daemon('slurmctld');
    await daemon('slurmd');
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { stdout } = await exec('sinfo', ['-h', '-o', '%T'], { env: this.env }).catch(() => ({ stdout: '' }));
      if (/^idle/m.test(stdout)) break;
      if (Date.now() > deadline) {
        const log = fs.existsSync(path.join(d, 'log', 'slurmctld.log')) ? fs.readFileSync(path.join(d, 'log', 'slurmctld.log'), 'utf8') : '';
        throw new SlurmUnavailable(`the Slurm node did not become idle within 60 s (sinfo: '${stdout.trim()}'); slurmctld.log: ${lastLine(log)}`);
      }
      await sleep(200);
    }
    this.version = (await exec('sbatch', ['--version'], { env: this.env })).stdout.trim();
    // Until its first scheduling pass reads SchedulerParameters, slurmctld keeps batch_sched_delay's default of 3 s: one job run to the end first keeps that out of the timings.
    await exec('sbatch', ['--parsable', '-D', path.join(d, 'out'), '-o', '/dev/null', '-e', '/dev/null', '--wrap', '/bin/true'], { env: this.env });
    await this.waitEmpty(60_000);
  }

  /** Jobs still pending, running or completing (array tasks counted one by one). */
  async queued(): Promise<number> {
    const { stdout } = await exec('squeue', ['-h', '-r', '-o', '%i'], { env: this.env, maxBuffer: 64 << 20 });
    return stdout.split('\n').filter((line) => line.trim() !== '').length;
  }

  async waitEmpty(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.queued()) > 0) {
      if (Date.now() > deadline) throw new Error(`Slurm jobs still queued after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  private outputs(label: string): string {
    const directory = path.join(this.directory, 'out', label);
    fs.mkdirSync(directory, { recursive: true });
    return directory;
  }

  /** N array tasks of /bin/true; ms from submission to the queue emptying. */
  async runArray(tasks: number): Promise<number> {
    const out = this.outputs('array');
    const begin = now();
    await exec('sbatch', ['--parsable', `--array=0-${tasks - 1}`, '-D', out, '-o', `${out}/%A_%a.out`, '-e', `${out}/%A_%a.err`, '--wrap', '/bin/true'], { env: this.env });
    await this.waitEmpty(Math.max(300_000, tasks * 2000));
    const ms = now() - begin;
    this.checkOutputs(out, tasks);
    return ms;
  }

  /** N single `sbatch --wrap /bin/true` jobs, submitted 4 at a time; ms from the first submission to the queue emptying. */
  async runSingles(tasks: number): Promise<number> {
    const out = this.outputs('wrap');
    const begin = now();
    await inParallel(
      Array.from({ length: tasks }, (_, index) => index),
      4,
      async (index) => {
        await exec('sbatch', ['--parsable', '-D', out, '-o', `${out}/${index}.out`, '-e', `${out}/${index}.err`, '--wrap', '/bin/true'], { env: this.env });
      },
    );
    await this.waitEmpty(Math.max(300_000, tasks * 2000));
    const ms = now() - begin;
    this.checkOutputs(out, tasks);
    return ms;
  }

  private checkOutputs(directory: string, tasks: number): void {
    const outs = fs.readdirSync(directory).filter((name) => name.endsWith('.out')).length;
    if (outs !== tasks) throw new Error(`Slurm wrote ${outs} stdout files for ${tasks} jobs`);
  }

  /** Stops slurmd, slurmctld and munged (by their pid files), whatever state they are in. */
  async stop(): Promise<void> {
    const pidOf = (file: string) => readPid(path.join(this.directory, file));
    const daemons = [pidOf('slurmd.pid'), pidOf('slurmctld.pid')].filter((pid): pid is number => pid !== undefined);
    await exec('scontrol', ['shutdown'], { env: this.env, timeout: 15_000 }).catch(() => undefined);
    await ended(daemons, 10_000);
    const munged = pidOf(path.join('munge', 'munged.pid'));
    if (munged !== undefined && alive(munged)) process.kill(munged, 'SIGTERM');
    await ended(munged === undefined ? [] : [munged], 5_000);
  }
}

/** Waits for the processes to end, then kills those left. */
async function ended(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
}

interface SlurmRun {
  version: string;
  arrayMs: number;
  singlesMs: number;
  slurmConf: string;
}

/** One cluster of `cpus` CPUs with `tuning`: N as a job array, then N single jobs; stopped and removed after. */
async function runSlurm(context: BenchContext, tuning: SlurmTuning, cpus: number, tasks: number): Promise<SlurmRun> {
  const directory = context.directory(`slurm-${tuning.name}-${cpus}`);
  const cluster = new SlurmCluster(directory, cpus, tasks, tuning);
  try {
    await cluster.start();
    context.log(`  ${cluster.version} started: one node of ${cpus} CPUs, configuration '${tuning.name}'`);
    const arrayMs = await cluster.runArray(tasks);
    context.log(`  Slurm job array: ${tasks} tasks in ${round(arrayMs)} ms (${round(tasks / (arrayMs / 1000))} jobs/s)`);
    const singlesMs = await cluster.runSingles(tasks);
    context.log(`  Slurm sbatch --wrap: ${tasks} jobs in ${round(singlesMs)} ms (${round(tasks / (singlesMs / 1000))} jobs/s)`);
    return { version: cluster.version, arrayMs, singlesMs, slurmConf: fs.readFileSync(path.join(directory, 'slurm.conf'), 'utf8') };
  } finally {
    await cluster.stop().catch(() => undefined);
    if (fs.existsSync(directory)) fs.rmSync(directory, { recursive: true, force: true });
  }
}

/** Every configuration of SLURM_TUNINGS at SWEEP's size, in turn; a configuration that fails is recorded with its error. */
async function sweep(context: BenchContext) {
  const rows = [];
  for (const tuning of SLURM_TUNINGS) {
    const load = os.loadavg()[0] as number;
    try {
      const run = await runSlurm(context, tuning, SWEEP.cpus, SWEEP.tasks);
      const perS = (ms: number) => round(SWEEP.tasks / (ms / 1000));
      rows.push({ ...tuning, arrayPerS: perS(run.arrayMs), wrapPerS: perS(run.singlesMs), arrayMs: round(run.arrayMs), singlesMs: round(run.singlesMs), loadBefore: round(load) });
    } catch (error) {
      context.log(`  configuration '${tuning.name}' failed: ${(error as Error).message}`);
      rows.push({ ...tuning, error: (error as Error).message, loadBefore: round(load) });
    }
  }
  return { cpus: SWEEP.cpus, tasks: SWEEP.tasks, rows };
}

export async function slurmSection(context: BenchContext): Promise<SectionResult> {
  const started = now();
  const tasks = context.options.slurmTasks;
  const cpuCounts = context.options.slurmCpus;
  const skip = (reason: string): SectionResult => {
    context.log(`  Slurm skipped: ${reason}`);
    return { section: 'slurm', seconds: (now() - started) / 1000, figures: [], details: { tasks, cpus: cpuCounts }, notes: [], skipped: reason };
  };
  if (process.platform !== 'linux') return skip('Slurm runs on Linux only');
  try {
    await ensureSlurm(context.options.installSlurm, context.log);
  } catch (error) {
    return skip(error instanceof SlurmUnavailable ? error.message : `Slurm failed here: ${(error as Error).message}`);
  }
  const settingsSweep = context.options.slurmSweep ? await sweep(context) : undefined;
  const sizes: { cpus: number; version: string; arrayMs: number; singlesMs: number; lapisMs: number; slurmConf: string; loadBefore: number; loadAfter: number }[] = [];
  const figures = [];
  const note = tasks < 10_000 ? `N = ${tasks}, the issue's N is 10,000` : undefined;
  const rate = (ms: number) => tasks / (ms / 1000);
  for (const cpus of cpuCounts) {
    try {
      const loadBefore = round(os.loadavg()[0] as number);
      // The cluster is stopped before Lapis runs: its daemons take no CPU from it.
      const { version, arrayMs, singlesMs, slurmConf } = await runSlurm(context, SLURM_TUNED, cpus, tasks);
      const { lapis } = await context.sharedServers();
      const { ms: lapisMs } = await lapisRun(lapis, `slurmcmp${cpus}`, tasks, cpus, context.options.parallel);
      context.log(`  Lapis, same N on ${cpus} slots: ${round(lapisMs)} ms (${round(rate(lapisMs) / rate(arrayMs))}× the array, ${round(rate(lapisMs) / rate(singlesMs))}× sbatch --wrap)`);
      sizes.push({ cpus, version, arrayMs, singlesMs, lapisMs, slurmConf, loadBefore, loadAfter: round(os.loadavg()[0] as number) });
      for (const [mode, ms, label] of [['array', arrayMs, 'job array'], ['wrap', singlesMs, 'sbatch --wrap']] as const) {
        figures.push(
          figure({
            section: 'slurm',
            id: `slurm.${mode}.c${cpus}`,
            label: `Lapis vs Slurm ${mode === 'array' ? 'job array' : 'single sbatch --wrap jobs'}, N = ${tasks}, ${cpus} slots / CPUs`,
            unit: 'tasks/s',
            lapis: rate(lapisMs),
            baseline: rate(ms),
            baselineLabel: `${version} ${label}`,
            better: 'higher',
            target: { text: '≥ 20 × Slurm', met: rate(lapisMs) / rate(ms) >= 20, note },
          }),
        );
      }
    } catch (error) {
      context.log(`  Slurm at ${cpus} CPUs failed: ${(error as Error).message}`);
    }
  }
  if (sizes.length === 0) return skip('Slurm did not run at any size (see the log)');
  return {
    section: 'slurm',
    seconds: (now() - started) / 1000,
    figures,
    details: { tasks, cpus: cpuCounts, tuning: SLURM_TUNED, sizes, ...(settingsSweep ? { sweep: settingsSweep } : {}) },
    notes: [
      'Slurm is timed from the first sbatch to the first squeue (polled every 100 ms) that lists no job, after one warm-up job has run (until its first scheduling pass reads SchedulerParameters, slurmctld delays queued passes by 3 s).',
      `Slurm configuration '${SLURM_TUNED.name}' at every size (${Object.entries(SLURM_TUNED.settings).map(([key, value]) => `${key}=${value}`).join(' ')}): ${SLURM_TUNED.why}; the whole slurm.conf of each size is in the JSON${settingsSweep ? ', the sweep of the configurations tried under details.sweep' : ''}.`,
    ],
  };
}
