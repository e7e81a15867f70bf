// What every section gets: the resolved options, a scratch directory, the
// shared server processes (Lapis and the baseline, started once and reused
// by the sections that do not need a fresh data directory), and a logger.

import fs from 'node:fs';
import path from 'node:path';
import { startBaselineProcess, startLapisProcess, type ServerProcess } from './server-process.js';

export const SECTIONS = ['quickstart', 'startup', 'throughput', 'slurm', 'latency', 'submit', 'scale'] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface BenchOptions {
  quick: boolean;
  quickstartRuns: number;
  tasks: number;
  slots: number[];
  slurm: boolean;
  slurmTasks: number;
  slurmCpus: number[];
  /** Run the Slurm settings sweep (every configuration in bench/slurm.ts, 8 CPUs, 200 jobs a mode) before the comparison. */
  slurmSweep: boolean;
  /** Install Slurm first when missing (scripts/install-slurm.sh). */
  installSlurm: boolean;
  /** Throughput also on container nodes (when Podman and the test image are there). */
  containers: boolean;
  submit: number;
  parallel: number;
  scale: number;
  samples: number;
  latency: number;
  serverLogLevel: string;
  sections: SectionName[];
  profileDir?: string;
}

export class BenchContext {
  private shared: Promise<{ lapis: ServerProcess; baseline: ServerProcess }> | undefined;
  private readonly started: ServerProcess[] = [];
  private counter = 0;

  constructor(
    readonly options: BenchOptions,
    readonly workDir: string,
    readonly log: (line: string) => void,
  ) {}

  /** A new empty directory under the scratch directory. */
  directory(label: string): string {
    const directory = path.join(this.workDir, `${String(++this.counter).padStart(2, '0')}-${label}`);
    fs.mkdirSync(directory, { recursive: true });
    return directory;
  }

  /** Node flags for a Lapis server process: --cpu-prof into the profile directory when asked. */
  private profileFlags(label: string): string[] {
    if (!this.options.profileDir) return [];
    const directory = path.join(this.options.profileDir, label);
    fs.mkdirSync(directory, { recursive: true });
    return ['--cpu-prof', '--cpu-prof-dir', directory];
  }

  async startLapis(label: string, dataDir = this.directory(`lapis-${label}`), serveArgs: string[] = []): Promise<ServerProcess> {
    const server = await startLapisProcess({ dataDir, logLevel: this.options.serverLogLevel, nodeFlags: this.profileFlags(label), serveArgs });
    this.started.push(server);
    return server;
  }

  async startBaseline(label: string, dataDir = this.directory(`baseline-${label}`)): Promise<ServerProcess> {
    const server = await startBaselineProcess({ dataDir });
    this.started.push(server);
    return server;
  }

  /** The Lapis and baseline servers shared by throughput, Slurm, latency and submit. */
  sharedServers(): Promise<{ lapis: ServerProcess; baseline: ServerProcess }> {
    this.shared ??= (async () => {
      const lapis = await this.startLapis('shared');
      const baseline = await this.startBaseline('shared');
      this.log(`  shared servers ready: Lapis in ${Math.round(lapis.readyMs)} ms (pid ${lapis.pid}), baseline in ${Math.round(baseline.readyMs)} ms (pid ${baseline.pid})`);
      return { lapis, baseline };
    })();
    return this.shared;
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled(this.started.map((server) => server.stop()));
    this.started.length = 0;
    this.shared = undefined;
  }
}
