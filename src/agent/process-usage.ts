// What /proc says of one process: its CPU time (utime + stime of
// /proc/<pid>/stat), its resident memory (VmRSS of /proc/<pid>/status) and
// the bytes it made the disks read and write (/proc/<pid>/io: root may read
// every process's). Used where a node's control group does not give a figure
// (node-usage-meter.ts). A process that ended between listing and reading is
// skipped.

import fs from 'node:fs/promises';

/** USER_HZ: the unit of utime and stime, 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessUsage {
  /** The process's start time in clock ticks since boot: with the pid, names the process even after its pid is reused. */
  startTicks: number;
  cpuMs: number;
  rssBytes: number;
  readBytes: number;
  writeBytes: number;
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses), numbered from 3 (state) as in proc(5). */
function statFields(text: string): string[] {
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

export function parseProcessStat(text: string): { processGroup: number; cpuMs: number; startTicks: number } {
  const fields = statFields(text);
  const field = (number: number) => Number(fields[number - 3]);
  return { processGroup: field(5), cpuMs: ((field(14) + field(15)) * 1000) / CLOCK_TICKS_PER_SECOND, startTicks: field(22) };
}

function keyedNumber(text: string, key: string): number {
  const line = text.split('\n').find((entry) => entry.startsWith(`${key}:`));
  const value = Number.parseInt(line?.slice(key.length + 1).trim() ?? '', 10);
  return Number.isFinite(value) ? value : 0;
}

export async function readProcessUsage(pid: number): Promise<ProcessUsage | undefined> {
  try {
    const [stat, status, io] = await Promise.all([
      fs.readFile(`/proc/${pid}/stat`, 'utf8'),
      fs.readFile(`/proc/${pid}/status`, 'utf8'),
      fs.readFile(`/proc/${pid}/io`, 'utf8').catch(() => ''),
    ]);
    const { cpuMs, startTicks } = parseProcessStat(stat);
    return { startTicks, cpuMs, rssBytes: keyedNumber(status, 'VmRSS') * 1024, readBytes: keyedNumber(io, 'read_bytes'), writeBytes: keyedNumber(io, 'write_bytes') };
  } catch {
    return undefined;
  }
}

/** The processes of these process groups (a node's runs, each started in a group of its own). */
export async function processGroupMembers(groups: ReadonlySet<number>): Promise<number[]> {
  if (groups.size === 0) return [];
  let entries: string[];
  try {
    entries = await fs.readdir('/proc');
  } catch {
    return [];
  }
  const members = await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry) => {
        try {
          return groups.has(parseProcessStat(await fs.readFile(`/proc/${entry}/stat`, 'utf8')).processGroup) ? Number(entry) : undefined;
        } catch {
          return undefined;
        }
      }),
  );
  return members.filter((pid): pid is number => pid !== undefined);
}
