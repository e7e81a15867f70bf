// Where the results go: bench/results/<date>-<commit>.json (everything
// measured), bench/results/<date>-<commit>.svg (the plot) and the summary
// table in bench/README.md between its markers, with the machine and the
// exact command.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Figure, SectionResult } from './figures.js';
import { round } from './stats.js';

export const README_START = '<!-- bench:results:start -->';
export const README_END = '<!-- bench:results:end -->';

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  kernel: string;
}

export interface BenchReport {
  schema: 1;
  date: string;
  commit: string;
  command: string;
  quick: boolean;
  machine: Machine;
  options: Record<string, unknown>;
  seconds: number;
  sections: SectionResult[];
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cores: os.availableParallelism?.() ?? cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
  };
}

export function commit(cwd: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || 'nocommit';
  } catch {
    return 'nocommit';
  }
}

export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

const UNIT_DIGITS = (value: number): string => {
  if (!Number.isFinite(value)) return '–';
  const rounded = round(value);
  return Math.abs(rounded) >= 1000 ? rounded.toLocaleString('en-US') : String(rounded);
};

function ratioText(entry: Figure): string {
  if (entry.ratio === null || !Number.isFinite(entry.ratio)) return '–';
  const ratio = entry.ratio;
  const text = ratio >= 100 ? `${Math.round(ratio)}×` : ratio >= 0.01 ? `${round(ratio)}×` : `${ratio.toExponential(1)}×`;
  return text;
}

function targetText(entry: Figure): string {
  if (!entry.target) return '';
  const mark = entry.target.met ? '**met**' : '**missed**';
  return `${entry.target.text}: ${mark}${entry.target.note ? ` (${entry.target.note})` : ''}`;
}

/** The markdown summary: machine, command, one row per figure, skipped sections and the plot. */
export function summaryMarkdown(report: BenchReport, plotFile: string | undefined): string {
  const m = report.machine;
  const lines: string[] = [];
  lines.push(`Run of ${report.date} at commit \`${report.commit}\`${report.quick ? ' (quick mode: tiny sizes, not for comparison)' : ''}, ${Math.round(report.seconds)} s in all.`);
  lines.push('');
  lines.push(`Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB memory, Node.js ${m.node}, ${m.platform} (kernel ${m.kernel}).`);
  lines.push('');
  lines.push(`Command: \`${report.command}\``);
  lines.push('');
  lines.push('Ratio is Lapis ÷ baseline, both measured side by side in this run (for Azure, its published figure). For tasks/s higher is better; for ms and MiB lower is better.');
  lines.push('');
  lines.push('| measurement | unit | Lapis | baseline (same run) | baseline value | Lapis ÷ baseline | target |');
  lines.push('|---|---|---:|---|---:|---:|---|');
  for (const section of report.sections) {
    for (const entry of section.figures) {
      lines.push(
        `| ${entry.label} | ${entry.unit} | ${UNIT_DIGITS(entry.lapis)} | ${entry.baselineLabel} | ${entry.baseline === null ? '–' : UNIT_DIGITS(entry.baseline)} | ${ratioText(entry)} | ${targetText(entry)} |`,
      );
    }
    if (section.skipped) lines.push(`| ${section.section}: not run | | | | | | ${section.skipped.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`);
  }
  lines.push('');
  const targets = report.sections.flatMap((section) => section.figures).filter((entry) => entry.target);
  const met = targets.filter((entry) => entry.target?.met).length;
  lines.push(`Targets met: ${met} of ${targets.length}.`);
  if (plotFile) {
    lines.push('');
    lines.push(`![tasks/s against slots](${plotFile})`);
  }
  return lines.join('\n');
}

/** Replaces what lies between the markers in README.md; adds the markers at the end if missing. */
export function updateReadme(readmePath: string, markdown: string): void {
  const current = fs.existsSync(readmePath) ? fs.readFileSync(readmePath, 'utf8') : '# Benchmarks\n';
  const block = `${README_START}\n${markdown}\n${README_END}`;
  const start = current.indexOf(README_START);
  const end = current.indexOf(README_END);
  const next = start >= 0 && end > start ? `${current.slice(0, start)}${block}${current.slice(end + README_END.length)}` : `${current.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(readmePath, next);
}

export function writeJson(file: string, report: BenchReport): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' && !Number.isInteger(value) ? Number(value.toFixed(3)) : value), 2)}\n`);
}
