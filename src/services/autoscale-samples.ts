// The metric samples autoscale formulas read ($ActiveTasks.GetSample(…)):
// taken every 30 seconds per autoscale pool, as Batch does, from the pool's
// jobs and nodes, and kept in memory for a day. After a restart the history
// starts again, as it would for a pool on a new Batch account.
//
// The resource variables come from the nodes' latest usage samples
// (node-usage-service.ts), measured every few seconds: $CPUPercent (0–100),
// $MemoryBytes and $DiskBytes are their averages over the nodes that
// reported; the disk and network counters are the nodes' sums, over one
// sample period at each node's latest rate; $SampleNodeCount is how many
// nodes reported. A pool whose nodes have not reported (none yet, or all
// gone) still gets a sample, of 0 from 0 nodes, so a formula over a recent
// window always reads at least one value.

import type { AutoScaleSample, SampleVariable } from '../core/autoscale/index.js';
import type { Pool } from '../core/pool.js';
import type { NodeUsageSample } from '../core/node-usage.js';
import type { Store } from '../core/ports.js';
import type { NodeUsageReader } from './node-usage-service.js';

export const SAMPLE_PERIOD_MS = 30_000;
const HISTORY_MS = 24 * 3_600_000;

/** The job states whose tasks count toward a pool's load. */
const LIVE_JOB_STATES = ['active', 'disabling', 'disabled', 'enabling', 'terminating'] as const;

export type SampleValues = Partial<Record<SampleVariable, number>>;

/** The pool's current metric values. */
export function currentSampleValues(store: Store, usage: NodeUsageReader, account: string, pool: Pool): SampleValues {
  let active = 0;
  let running = 0;
  let succeeded = 0;
  let failed = 0;
  for (const { job } of store.jobs.listByPool(account, pool.id, [...LIVE_JOB_STATES])) {
    const counts = store.tasks.counts(account, job.id).tasks;
    active += counts.active;
    running += counts.running;
    succeeded += counts.succeeded;
    failed += counts.failed;
  }
  const nodes = store.nodes.listByPool(account, pool.id).map((record) => record.node);
  const usable = nodes.filter((node) => node.state === 'idle' || node.state === 'running').length;
  return {
    $ActiveTasks: active,
    $RunningTasks: running,
    $PendingTasks: active + running,
    $SucceededTasks: succeeded,
    $FailedTasks: failed,
    $TaskSlotsPerNode: pool.taskSlotsPerNode,
    $CurrentDedicatedNodes: pool.currentDedicatedNodes,
    $CurrentLowPriorityNodes: pool.currentLowPriorityNodes,
    $UsableNodeCount: usable,
    $PreemptedNodeCount: nodes.filter((node) => node.state === 'preempted').length,
    ...resourceValues(usage.latest(nodes.map((node) => node.id))),
  };
}

function resourceValues(samples: readonly NodeUsageSample[]): SampleValues {
  const total = (figure: (sample: NodeUsageSample) => number) => samples.reduce((sum, sample) => sum + figure(sample), 0);
  const average = (figure: (sample: NodeUsageSample) => number) => (samples.length === 0 ? 0 : total(figure) / samples.length);
  const perPeriod = (figure: (sample: NodeUsageSample) => number) => total((sample) => (figure(sample) * SAMPLE_PERIOD_MS) / sample.intervalMs);
  return {
    $CPUPercent: average((sample) => sample.cpuPercent),
    $MemoryBytes: average((sample) => sample.memoryBytes),
    $DiskBytes: average((sample) => sample.diskBytes),
    $DiskReadBytes: perPeriod((sample) => sample.diskReadBytes),
    $DiskWriteBytes: perPeriod((sample) => sample.diskWriteBytes),
    $DiskReadOps: perPeriod((sample) => sample.diskReadOps),
    $DiskWriteOps: perPeriod((sample) => sample.diskWriteOps),
    $NetworkInBytes: perPeriod((sample) => sample.networkInBytes),
    $NetworkOutBytes: perPeriod((sample) => sample.networkOutBytes),
    $SampleNodeCount: samples.length,
  };
}

export class AutoScaleSamples {
  private readonly history = new Map<string, { lastTaken: number; samples: Map<SampleVariable, AutoScaleSample[]> }>();

  private key(account: string, poolId: string): string {
    return `${account}\n${poolId.toLowerCase()}`;
  }

  /** Records one sample of every value, unless the last one is younger than the sample period. */
  record(account: string, poolId: string, values: SampleValues, now: number): void {
    const key = this.key(account, poolId);
    const entry = this.history.get(key) ?? { lastTaken: Number.NEGATIVE_INFINITY, samples: new Map() };
    if (now - entry.lastTaken < SAMPLE_PERIOD_MS) return;
    entry.lastTaken = now;
    for (const [name, value] of Object.entries(values) as [SampleVariable, number][]) {
      const samples = entry.samples.get(name) ?? [];
      samples.push({ time: now, value });
      while (samples.length > 0 && now - Number(samples[0]?.time) > HISTORY_MS) samples.shift();
      entry.samples.set(name, samples);
    }
    this.history.set(key, entry);
  }

  samples(account: string, poolId: string): Partial<Record<SampleVariable, AutoScaleSample[]>> {
    const entry = this.history.get(this.key(account, poolId));
    return entry ? Object.fromEntries(entry.samples) : {};
  }

  /** When the pool's next sample is due. */
  nextSampleTime(account: string, poolId: string): number {
    const entry = this.history.get(this.key(account, poolId));
    return entry ? entry.lastTaken + SAMPLE_PERIOD_MS : 0;
  }

  forget(account: string, poolId: string): void {
    this.history.delete(this.key(account, poolId));
  }
}
