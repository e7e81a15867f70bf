// Measures a node's use of the machine every few seconds, for the server's
// autoscale samples and lifetime statistics (core/node-usage.ts).
//
// What is measured is the node's tasks, not the agent: the processes of the
// node's control group (`<cgroupRoot>/<nodeId>`, every run's group below it)
// where the host has control groups, else the processes of the node's runs'
// process groups. Each figure comes from the group where it has one (CPU
// time always; memory and disk I/O only where those controllers are on),
// else summed over the processes from /proc. Per-process sums miss what a
// process did after the previous measurement if it has ended since, and
// processes that left their run's process group; /proc gives no disk
// operation counts, so those read 0 there.
//
// Disk bytes are the bytes used on the file system that holds the node's
// directory, which a local node shares with the host. Network traffic is 0:
// a local node shares the host's network namespace, where no figure tells
// one node's traffic from another's or from the host's.

import fs from 'node:fs/promises';
import os from 'node:os';
import type { NodeUsageSample } from '../core/node-usage.js';
import { cgroupProcesses, readCgroupUsage, type DiskCounters } from './cgroup-usage.js';
import { processGroupMembers, readProcessUsage } from './process-usage.js';

export interface NodeUsageSource {
  /** The node's directory: its file system's use is the node's disk use. */
  root: string;
  /** The node's control group, where the host has them. */
  cgroup?: string;
  /** Without a control group: the process groups of the node's runs. */
  processGroups(): number[];
}

interface Counters extends DiskCounters {
  cpuMs: number;
}

interface Reading {
  at: number;
  /** The group's own counters, where it has them. */
  group: { cpuMs?: number; disk?: DiskCounters };
  /** Each process's counters, by pid and start time. */
  processes: Map<string, Counters>;
  memoryBytes: number;
  diskBytes: number;
}

const ZERO: Counters = { cpuMs: 0, readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 };

/** A counter's growth; a counter that went down started again (the node's group was made anew after a reboot). */
function growth(now: number, before: number | undefined): number {
  return before === undefined || now < before ? now : now - before;
}

export class NodeUsageMeter {
  private previous: Reading | undefined;
  private readonly cpus = os.availableParallelism();

  constructor(
    private readonly source: NodeUsageSource,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The figures since the previous measurement; undefined the first time, which only sets the baseline. */
  async measure(): Promise<NodeUsageSample | undefined> {
    const current = await this.read();
    const previous = this.previous;
    this.previous = current;
    if (!previous) return undefined;
    const intervalMs = Math.max(1, current.at - previous.at);
    const perProcess = { ...ZERO };
    for (const [key, counters] of current.processes) {
      const before = previous.processes.get(key) ?? ZERO;
      for (const field of Object.keys(perProcess) as (keyof Counters)[]) perProcess[field] += Math.max(0, counters[field] - before[field]);
    }
    const cpuMs = current.group.cpuMs === undefined ? perProcess.cpuMs : growth(current.group.cpuMs, previous.group.cpuMs);
    const disk = current.group.disk;
    const diskGrowth = (field: keyof DiskCounters) => (disk ? growth(disk[field], previous.group.disk?.[field]) : perProcess[field]);
    return {
      intervalMs,
      cpuPercent: Math.min(100, (cpuMs / (intervalMs * this.cpus)) * 100),
      cpuMs,
      memoryBytes: current.memoryBytes,
      diskBytes: current.diskBytes,
      diskReadBytes: diskGrowth('readBytes'),
      diskWriteBytes: diskGrowth('writeBytes'),
      diskReadOps: diskGrowth('readOps'),
      diskWriteOps: diskGrowth('writeOps'),
      networkInBytes: 0,
      networkOutBytes: 0,
    };
  }

  private async read(): Promise<Reading> {
    const { cgroup } = this.source;
    const group = cgroup ? await readCgroupUsage(cgroup) : {};
    // Processes are read only for the figures the group does not give.
    const complete = group.cpuUsec !== undefined && group.memoryBytes !== undefined && group.disk !== undefined;
    const pids = complete ? [] : cgroup ? await cgroupProcesses(cgroup) : await processGroupMembers(new Set(this.source.processGroups()));
    const processes = new Map<string, Counters>();
    let rssBytes = 0;
    for (const pid of pids) {
      const usage = await readProcessUsage(pid);
      if (!usage) continue;
      rssBytes += usage.rssBytes;
      processes.set(`${pid}:${usage.startTicks}`, { cpuMs: usage.cpuMs, readBytes: usage.readBytes, writeBytes: usage.writeBytes, readOps: 0, writeOps: 0 });
    }
    return {
      at: this.now(),
      group: { cpuMs: group.cpuUsec === undefined ? undefined : group.cpuUsec / 1000, disk: group.disk },
      processes,
      memoryBytes: group.memoryBytes ?? rssBytes,
      diskBytes: await this.diskBytes(),
    };
  }

  private async diskBytes(): Promise<number> {
    try {
      const stats = await fs.statfs(this.source.root);
      return (stats.blocks - stats.bfree) * stats.bsize;
    } catch {
      return 0;
    }
  }
}
