// What a control group (cgroup v2) says of the processes in it and below it:
// CPU time from cpu.stat (always there), memory from memory.current and disk
// I/O from io.stat (there only where the memory and io controllers are
// enabled for the group; absent figures are measured per process instead,
// node-usage-meter.ts). Counters are the group's since it was made.

import fs from 'node:fs/promises';
import path from 'node:path';

export interface DiskCounters {
  readBytes: number;
  writeBytes: number;
  readOps: number;
  writeOps: number;
}

export interface CgroupUsage {
  cpuUsec?: number;
  memoryBytes?: number;
  disk?: DiskCounters;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** `usage_usec` of a cpu.stat file. */
export function parseCpuStat(text: string): number | undefined {
  const line = text.split('\n').find((entry) => entry.startsWith('usage_usec '));
  const value = Number(line?.slice('usage_usec '.length));
  return line && Number.isFinite(value) ? value : undefined;
}

/** Every device's lines of an io.stat file (`8:0 rbytes=… wbytes=… rios=… wios=…`), summed. */
export function parseIoStat(text: string): DiskCounters {
  const total: DiskCounters = { readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 };
  const keys: Record<string, keyof DiskCounters> = { rbytes: 'readBytes', wbytes: 'writeBytes', rios: 'readOps', wios: 'writeOps' };
  for (const line of text.split('\n')) {
    for (const pair of line.split(' ').slice(1)) {
      const [key, value] = pair.split('=');
      const field = key ? keys[key] : undefined;
      const number = Number(value);
      if (field && Number.isFinite(number)) total[field] += number;
    }
  }
  return total;
}

/** The group's figures; nothing when the group does not exist (a node that has not run anything yet). */
export async function readCgroupUsage(group: string): Promise<CgroupUsage> {
  const [cpu, memory, io] = await Promise.all(['cpu.stat', 'memory.current', 'io.stat'].map((file) => readText(path.join(group, file))));
  const memoryBytes = memory === undefined ? undefined : Number(memory.trim());
  return {
    cpuUsec: cpu === undefined ? undefined : parseCpuStat(cpu),
    memoryBytes: memoryBytes !== undefined && Number.isFinite(memoryBytes) ? memoryBytes : undefined,
    disk: io === undefined ? undefined : parseIoStat(io),
  };
}

/** The processes in the group and every group below it. */
export async function cgroupProcesses(group: string): Promise<number[]> {
  const pids: number[] = [];
  const visit = async (directory: string): Promise<void> => {
    const procs = await readText(path.join(directory, 'cgroup.procs'));
    if (procs === undefined) return;
    for (const line of procs.split('\n')) if (line) pids.push(Number(line));
    let children: string[] = [];
    try {
      children = (await fs.readdir(directory, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    } catch {
      return;
    }
    for (const child of children) await visit(path.join(directory, child));
  };
  await visit(group);
  return pids;
}
