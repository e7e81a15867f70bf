// Small statistics and timing helpers for the bench.

export function sorted(values: number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** The q-quantile (0..1) by nearest rank; NaN for no values. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const ordered = sorted(values);
  const rank = Math.min(ordered.length - 1, Math.max(0, Math.ceil(q * ordered.length) - 1));
  return ordered[rank] as number;
}

export const median = (values: number[]): number => quantile(values, 0.5);
export const p99 = (values: number[]): number => quantile(values, 0.99);

export interface Spread {
  median: number;
  min: number;
  max: number;
  p10: number;
  p90: number;
  n: number;
}

export function spread(values: number[]): Spread {
  const ordered = sorted(values);
  return {
    median: median(ordered),
    min: ordered[0] ?? Number.NaN,
    max: ordered[ordered.length - 1] ?? Number.NaN,
    p10: quantile(ordered, 0.1),
    p90: quantile(ordered, 0.9),
    n: ordered.length,
  };
}

/** Milliseconds since an arbitrary origin, sub-millisecond. */
export const now = (): number => performance.now();

/** Rounds for display and JSON: 3 significant digits below 100, integers above. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` over `items` with at most `limit` at once. */
export async function inParallel<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    for (;;) {
      const index = next++;
      if (index >= items.length) return;
      await work(items[index] as T, index);
    }
  });
  await Promise.all(workers);
}
