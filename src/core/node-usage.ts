// What a node measures of its tasks' use of the machine, and sends to the
// server on a heartbeat: the source of the autoscale resource variables
// ($CPUPercent, $MemoryBytes, $DiskReadBytes…) and of the pools' lifetime
// resource statistics. The agent measures (agent/node-usage-meter.ts); the
// server keeps each node's latest figures (services/node-usage-service.ts).

/** How often a node measures: often enough that each of Batch's 30-second pool samples reads a fresh figure, rarely enough to cost nothing. */
export const NODE_USAGE_INTERVAL_MS = 5_000;

/**
 * One measurement of a node. Gauges are the values at the time of the
 * measurement; counters are what happened since the node's previous
 * measurement, `intervalMs` before.
 */
export interface NodeUsageSample {
  intervalMs: number;
  /** CPU time the node's tasks used over the interval, in percent of the CPUs the node has (0–100). */
  cpuPercent: number;
  /** The same CPU time in milliseconds. */
  cpuMs: number;
  memoryBytes: number;
  /** Bytes used on the file system that holds the node's directory. */
  diskBytes: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  diskReadOps: number;
  diskWriteOps: number;
  networkInBytes: number;
  networkOutBytes: number;
}

export const NODE_USAGE_FIELDS = [
  'intervalMs',
  'cpuPercent',
  'cpuMs',
  'memoryBytes',
  'diskBytes',
  'diskReadBytes',
  'diskWriteBytes',
  'diskReadOps',
  'diskWriteOps',
  'networkInBytes',
  'networkOutBytes',
] as const satisfies readonly (keyof NodeUsageSample)[];

/** A sample as an agent sent it, if it is one: every figure a finite number, none negative. An agent is not trusted to send anything else. */
export function nodeUsageSampleOf(value: unknown): NodeUsageSample | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const fields = value as Record<string, unknown>;
  const sample: Partial<NodeUsageSample> = {};
  for (const field of NODE_USAGE_FIELDS) {
    const figure = fields[field];
    if (typeof figure !== 'number' || !Number.isFinite(figure) || figure < 0) return undefined;
    sample[field] = figure;
  }
  return sample as NodeUsageSample;
}
