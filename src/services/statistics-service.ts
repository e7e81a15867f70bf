// Usage and lifetime statistics: Pool_ListUsageMetrics (hourly node-hours
// per pool), Pool_GetAllLifetimeStatistics and Job_GetAllLifetimeStatistics,
// from the node lifetimes, task totals and pool resource totals (the nodes'
// usage samples, node-usage-service.ts) the store keeps.

import { batchErrors } from '../core/errors.js';
import type { PoolResourceTotals } from '../core/ports.js';
import { formatDuration, formatTimestamp } from '../core/time.js';
import type { Caller, ServiceContext } from './context.js';

/** Usage metrics are aggregated per hour. */
export const USAGE_INTERVAL_MS = 3_600_000;
/** A local node stands in for a VM of one core. */
const CORES_PER_NODE = 1;
const GIB = 1024 ** 3;

export interface PoolUsageMetrics {
  poolId: string;
  startTime: string;
  endTime: string;
  vmSize: string;
  totalCoreHours: number;
}

export class StatisticsService {
  constructor(private readonly context: ServiceContext) {}

  /** Node hours per pool and hour overlapping [from, to); by default the last complete hour. */
  poolUsageMetrics(caller: Caller, range: { startTime?: Date; endTime?: Date }): PoolUsageMetrics[] {
    const now = this.context.now().getTime();
    const lastHour = Math.floor(now / USAGE_INTERVAL_MS) * USAGE_INTERVAL_MS;
    const from = range.startTime ? Math.floor(range.startTime.getTime() / USAGE_INTERVAL_MS) * USAGE_INTERVAL_MS : lastHour - USAGE_INTERVAL_MS;
    const to = range.endTime ? Math.min(range.endTime.getTime(), now) : lastHour;
    if (to < from) throw batchErrors.invalidQueryParameterValue('endtime', new Date(to).toISOString(), 'The end time must not be before the start time.');
    const buckets = new Map<string, PoolUsageMetrics>();
    for (const interval of this.context.store.usage.overlapping(caller.account, from, to)) {
      const end = interval.endMs ?? now;
      for (let bucket = Math.max(from, Math.floor(interval.startMs / USAGE_INTERVAL_MS) * USAGE_INTERVAL_MS); bucket < Math.min(end, to); bucket += USAGE_INTERVAL_MS) {
        const overlap = Math.min(end, bucket + USAGE_INTERVAL_MS) - Math.max(interval.startMs, bucket);
        if (overlap <= 0) continue;
        const key = `${interval.poolId}\n${bucket}`;
        const entry = buckets.get(key) ?? {
          poolId: interval.poolId,
          startTime: formatTimestamp(new Date(bucket)),
          endTime: formatTimestamp(new Date(bucket + USAGE_INTERVAL_MS)),
          vmSize: interval.vmSize,
          totalCoreHours: 0,
        };
        entry.totalCoreHours += (overlap / USAGE_INTERVAL_MS) * CORES_PER_NODE;
        buckets.set(key, entry);
      }
    }
    return [...buckets.values()].sort((a, b) => a.startTime.localeCompare(b.startTime) || a.poolId.localeCompare(b.poolId));
  }

  poolLifetime(caller: Caller, poolId?: string) {
    const now = this.context.now();
    const intervals = this.context.store.usage
      .overlapping(caller.account, 0, now.getTime() + 1)
      .filter((interval) => poolId === undefined || interval.poolId.toLowerCase() === poolId.toLowerCase());
    const dedicatedMs = intervals
      .filter((interval) => interval.dedicated)
      .reduce((sum, interval) => sum + ((interval.endMs ?? now.getTime()) - interval.startMs) * CORES_PER_NODE, 0);
    const startTime = formatTimestamp(new Date(intervals[0]?.startMs ?? now.getTime()));
    const lastUpdateTime = formatTimestamp(now);
    return {
      startTime,
      lastUpdateTime,
      usageStats: { startTime, lastUpdateTime, dedicatedCoreTime: formatDuration(dedicatedMs) },
      resourceStats: { startTime, lastUpdateTime, ...resourceFigures(this.context.store.usage.resourceTotals(caller.account, poolId)) },
    };
  }

  /** A job's `stats` ($expand=stats): its tasks' totals. */
  jobStatistics(caller: Caller, jobIds: string[]) {
    const totals = jobIds.map((jobId) => this.context.store.tasks.statistics(caller.account, jobId));
    const sum = (pick: (entry: (typeof totals)[number]) => number) => totals.reduce((total, entry) => total + pick(entry), 0);
    const now = formatTimestamp(this.context.now());
    return {
      startTime: now,
      lastUpdateTime: now,
      userCPUTime: formatDuration(0),
      kernelCPUTime: formatDuration(0),
      wallClockTime: formatDuration(sum((entry) => entry.wallMs)),
      readIOps: 0,
      writeIOps: 0,
      readIOGiB: 0,
      writeIOGiB: 0,
      numSucceededTasks: sum((entry) => entry.succeeded),
      numFailedTasks: sum((entry) => entry.failed),
      numTaskRetries: sum((entry) => entry.retries),
      waitTime: formatDuration(sum((entry) => entry.waitMs)),
    };
  }

  /** A pool's `stats` ($expand=stats): its nodes' core time. */
  poolStatistics(caller: Caller, poolId: string) {
    return this.poolLifetime(caller, poolId);
  }

  jobLifetime(caller: Caller) {
    const now = this.context.now();
    const totals = this.context.store.usage.taskTotals(caller.account);
    return {
      startTime: formatTimestamp(new Date(totals?.firstMs ?? now.getTime())),
      lastUpdateTime: formatTimestamp(new Date(totals?.lastMs ?? now.getTime())),
      userCPUTime: formatDuration(0),
      kernelCPUTime: formatDuration(0),
      wallClockTime: formatDuration(totals?.wallMs ?? 0),
      readIOps: 0,
      writeIOps: 0,
      readIOGiB: 0,
      writeIOGiB: 0,
      numSucceededTasks: totals?.succeeded ?? 0,
      numFailedTasks: totals?.failed ?? 0,
      numTaskRetries: totals?.retries ?? 0,
      waitTime: formatDuration(totals?.waitMs ?? 0),
    };
  }
}

/** A pool's (or every pool's) resourceStats figures: averages over the time its nodes were measured, peaks, and totals. */
function resourceFigures(totals: PoolResourceTotals | undefined) {
  const average = (timeWeighted: number) => (totals && totals.sampledMs > 0 ? timeWeighted / totals.sampledMs : 0);
  return {
    avgCPUPercentage: average(totals?.cpuPercentMs ?? 0),
    avgMemoryGiB: average(totals?.memoryByteMs ?? 0) / GIB,
    peakMemoryGiB: (totals?.peakMemoryBytes ?? 0) / GIB,
    avgDiskGiB: average(totals?.diskByteMs ?? 0) / GIB,
    peakDiskGiB: (totals?.peakDiskBytes ?? 0) / GIB,
    diskReadIOps: Math.round(totals?.diskReadOps ?? 0),
    diskWriteIOps: Math.round(totals?.diskWriteOps ?? 0),
    diskReadGiB: (totals?.diskReadBytes ?? 0) / GIB,
    diskWriteGiB: (totals?.diskWriteBytes ?? 0) / GIB,
    networkReadGiB: (totals?.networkInBytes ?? 0) / GIB,
    networkWriteGiB: (totals?.networkOutBytes ?? 0) / GIB,
  };
}
