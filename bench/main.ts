// `npm run bench`: Lapis against the machine's limit and against Slurm, side
// by side. Every figure is a ratio to a baseline measured in the same run
// (see bench/README.md). `npm run bench -- --quick` is the CI smoke run.

import { Command, Option } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchContext, SECTIONS, type BenchOptions, type SectionName } from './context.js';
import { formatSummary, summariseProfile } from './cpu-profile.js';
import type { SectionResult } from './figures.js';
import { latencySection } from './latency.js';
import { throughputSvg, type PlotPoint } from './plot.js';
import { quickstartSection } from './quickstart-bench.js';
import { commit, machine, summaryMarkdown, today, updateReadme, writeJson, type BenchReport } from './report.js';
import { scaleSection } from './scale.js';
import { startupSection } from './startup.js';
import { REPO_ROOT } from './server-process.js';
import { slurmSection } from './slurm.js';
import { submitSection } from './submit-list.js';
import { throughputSection, type ThroughputPoint } from './throughput.js';
import { now } from './stats.js';

const DEFAULTS = {
  full: { quickstartRuns: 10, tasks: 3000, slurmTasks: 200, submit: 50_000, scale: 200_000, samples: 1000, latency: 1000 },
  quick: { quickstartRuns: 3, tasks: 200, slurmTasks: 50, submit: 2000, scale: 5000, samples: 200, latency: 30 },
};

function positive(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not '${text}'`);
    return value;
  };
}

function list(text: string): number[] {
  return text.split(',').map((part) => positive('--slots')(part.trim()));
}

function sections(text: string): SectionName[] {
  const names = text.split(',').map((part) => part.trim());
  for (const name of names) if (!SECTIONS.includes(name as SectionName)) throw new Error(`unknown section '${name}'; one of ${SECTIONS.join(', ')}`);
  return names as SectionName[];
}

const program = new Command('bench')
  .description('Lapis against the machine\'s limit and against Slurm, side by side. Sizes default to a run under 10 minutes on 2 cores; the issue\'s full sizes are --tasks 10000 --submit 100000 --scale 1000000 --latency 1000.')
  .option('--quick', `tiny sizes, no Slurm, under a minute (CI); sizes ${JSON.stringify(DEFAULTS.quick)}`)
  .option('--quickstart-runs <n>', `quickstart runs (default ${DEFAULTS.full.quickstartRuns})`, positive('--quickstart-runs'))
  .option('--tasks <n>', `throughput: trivial tasks per slot count (default ${DEFAULTS.full.tasks}; the issue: 10000)`, positive('--tasks'))
  .option('--slots <list>', 'throughput: total slot counts S', list, [2, 8, 32])
  .option('--no-slurm', 'skip the Slurm comparison')
  .option('--no-containers', 'throughput: skip the run on container nodes')
  .option('--slurm-tasks <n>', `Slurm comparison: jobs per mode (default ${DEFAULTS.full.slurmTasks})`, positive('--slurm-tasks'))
  .option('--slurm-cpus <list>', 'Slurm comparison: CPUs declared for the Slurm node = slots of the Lapis pool, one cluster per count in turn', list, [2, 8, 32])
  .option('--slurm-sweep', 'Slurm comparison: first run every Slurm configuration tried (8 CPUs, 200 jobs a mode) and record their rates')
  .option('--install-slurm', 'Slurm comparison: install slurm-wlm and munge first when missing (scripts/install-slurm.sh, apt-get, root)')
  .option('--submit <n>', `submit and list: tasks (default ${DEFAULTS.full.submit}; the issue: 100000)`, positive('--submit'))
  .option('--parallel <n>', 'addCollection requests in flight', positive('--parallel'), 8)
  .option('--scale <n>', `scale: tasks in one job (default ${DEFAULTS.full.scale}; the issue: 1000000)`, positive('--scale'))
  .option('--samples <n>', `scale: task gets sampled (default ${DEFAULTS.full.samples})`, positive('--samples'))
  .option('--latency <n>', `latency: tasks added one at a time (default ${DEFAULTS.full.latency}; the issue: 1000)`, positive('--latency'))
  .option('--only <sections>', `run only these sections (comma-separated: ${SECTIONS.join(', ')})`, sections)
  .addOption(new Option('--server-log-level <level>', 'log level of the Lapis server processes').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
  .option('--profile <dir>', 'run the Lapis server processes under node --cpu-prof, write the profiles there and print where their time went')
  .option('--out <dir>', 'results directory', path.join(REPO_ROOT, 'bench', 'results'))
  .option('--readme', 'write the summary table into bench/README.md (the default, except with --quick)')
  .option('--no-readme', 'do not touch bench/README.md')
  .option('--keep', 'keep the scratch directory (data directories of the servers)')
  .parse(process.argv);

const raw = program.opts<{
  quick?: boolean;
  quickstartRuns?: number;
  tasks?: number;
  slots: number[];
  slurm: boolean;
  containers: boolean;
  slurmTasks?: number;
  slurmCpus: number[];
  slurmSweep?: boolean;
  installSlurm?: boolean;
  submit?: number;
  parallel: number;
  scale?: number;
  samples?: number;
  latency?: number;
  only?: SectionName[];
  serverLogLevel: string;
  profile?: string;
  out: string;
  readme?: boolean;
  keep?: boolean;
}>();

const quick = raw.quick === true;
const sizes = quick ? DEFAULTS.quick : DEFAULTS.full;
const options: BenchOptions = {
  quick,
  quickstartRuns: raw.quickstartRuns ?? sizes.quickstartRuns,
  tasks: raw.tasks ?? sizes.tasks,
  slots: raw.slots,
  // Quick mode skips Slurm (installing and starting it takes longer than the whole quick run) unless it is asked for by --only.
  slurm: raw.slurm && (!quick || (raw.only?.includes('slurm') ?? false)),
  slurmTasks: raw.slurmTasks ?? sizes.slurmTasks,
  slurmCpus: raw.slurmCpus,
  slurmSweep: raw.slurmSweep === true,
  installSlurm: raw.installSlurm === true,
  containers: raw.containers,
  submit: raw.submit ?? sizes.submit,
  parallel: raw.parallel,
  scale: raw.scale ?? sizes.scale,
  samples: raw.samples ?? sizes.samples,
  latency: raw.latency ?? sizes.latency,
  serverLogLevel: raw.serverLogLevel,
  sections: raw.only ?? [...SECTIONS],
  profileDir: raw.profile ? path.resolve(raw.profile) : undefined,
};
const writeReadme = raw.readme ?? !quick;
const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');

const RUNNERS: Record<SectionName, (context: BenchContext) => Promise<SectionResult>> = {
  quickstart: quickstartSection,
  startup: startupSection,
  throughput: throughputSection,
  slurm: slurmSection,
  latency: latencySection,
  submit: submitSection,
  scale: scaleSection,
};

function plotPoints(results: SectionResult[]): PlotPoint[] {
  const points: PlotPoint[] = [];
  const throughput = results.find((result) => result.section === 'throughput');
  for (const point of (throughput?.details.points as ThroughputPoint[] | undefined) ?? []) {
    points.push({ slots: point.slots, tasksPerS: point.lapisTasksPerS, series: 'Lapis' });
    points.push({ slots: point.slots, tasksPerS: point.baselineTasksPerS, series: 'direct spawn (baseline)' });
  }
  const slurm = results.find((result) => result.section === 'slurm' && !result.skipped);
  const slurmTasks = slurm?.details.tasks as number | undefined;
  for (const size of (slurm?.details.sizes as { cpus: number; arrayMs: number; singlesMs: number; lapisMs: number }[] | undefined) ?? []) {
    const rate = (ms: number) => (slurmTasks ?? 0) / (ms / 1000);
    points.push({ slots: size.cpus, tasksPerS: rate(size.arrayMs), series: 'Slurm job array' });
    points.push({ slots: size.cpus, tasksPerS: rate(size.singlesMs), series: 'Slurm sbatch --wrap' });
    points.push({ slots: size.cpus, tasksPerS: rate(size.lapisMs), series: `Lapis, N = ${slurmTasks} (Slurm's N)` });
  }
  return points;
}

async function main(): Promise<number> {
  const started = now();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-bench-'));
  // The servers' data directories are below it: tasks running as users of their own must pass through.
  fs.chmodSync(workDir, 0o711);
  const log = (line: string) => console.log(line);
  const context = new BenchContext(options, workDir, log);
  log(`lapis bench${quick ? ' (quick)' : ''}: ${options.sections.join(', ')}; scratch ${workDir}`);
  const results: SectionResult[] = [];
  let failed = false;
  const stopping = () => {
    void context.stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopping);
  process.once('SIGTERM', stopping);
  try {
    for (const name of options.sections) {
      if (name === 'slurm' && !options.slurm) {
        const reason = quick ? 'quick mode skips Slurm' : '--no-slurm';
        log(`[slurm] skipped: ${reason}`);
        results.push({ section: 'slurm', seconds: 0, figures: [], details: {}, notes: [], skipped: reason });
        continue;
      }
      log(`[${name}]`);
      const sectionStart = now();
      try {
        results.push(await RUNNERS[name](context));
      } catch (error) {
        failed = true;
        log(`  ${name} failed: ${(error as Error).stack ?? error}`);
        results.push({ section: name, seconds: (now() - sectionStart) / 1000, figures: [], details: {}, notes: [], skipped: `failed: ${(error as Error).message}` });
      }
      log(`  (${Math.round((now() - sectionStart) / 100) / 10} s)`);
    }
  } finally {
    await context.stopAll();
    if (!raw.keep) fs.rmSync(workDir, { recursive: true, force: true });
  }

  const report: BenchReport = {
    schema: 1,
    date: today(),
    commit: commit(REPO_ROOT),
    command,
    quick,
    machine: machine(),
    options: { ...options },
    seconds: (now() - started) / 1000,
    sections: results,
  };
  // Runs of some sections only get their names in the file name, so they do not overwrite a whole run's results.
  const base = `${report.date}-${report.commit}${quick ? '-quick' : ''}${raw.only ? `-${raw.only.join('+')}` : ''}`;
  fs.mkdirSync(raw.out, { recursive: true });
  const jsonFile = path.join(raw.out, `${base}.json`);
  const points = plotPoints(results);
  let plotFile: string | undefined;
  if (points.length > 0) {
    plotFile = path.join(raw.out, `${base}.svg`);
    fs.writeFileSync(plotFile, await throughputSvg(points, `${report.machine.cores} cores, Node.js ${report.machine.node}, ${report.date}, ${report.commit}`));
  }
  const readmePath = path.join(REPO_ROOT, 'bench', 'README.md');
  const markdown = summaryMarkdown(report, plotFile ? path.relative(path.dirname(readmePath), plotFile) : undefined);
  if (options.profileDir) {
    const profiles = findProfiles(options.profileDir);
    const summaries = profiles.map((file) => summariseProfile(file, 12, REPO_ROOT));
    (report as BenchReport & { profiles?: unknown }).profiles = summaries;
    for (const summary of summaries) log(`\n${formatSummary(summary)}`);
  }
  writeJson(jsonFile, report);
  log(`\n${markdown}\n`);
  log(`results: ${path.relative(process.cwd(), jsonFile)}${plotFile ? `, plot: ${path.relative(process.cwd(), plotFile)}` : ''}`);
  if (writeReadme) {
    updateReadme(readmePath, markdown);
    log(`summary table written to ${path.relative(process.cwd(), readmePath)}`);
  }
  return failed ? 1 : 0;
}

/** The main-thread profile of each server process (the largest file per process), newest first. */
function findProfiles(directory: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.cpuprofile')) files.push(full);
    }
  };
  if (fs.existsSync(directory)) walk(directory);
  const byProcess = new Map<string, string>();
  for (const file of files) {
    // CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile: one key per process.
    const key = `${path.dirname(file)}:${path.basename(file).split('.')[3]}`;
    const current = byProcess.get(key);
    if (!current || fs.statSync(file).size > fs.statSync(current).size) byProcess.set(key, file);
  }
  return [...byProcess.values()];
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
