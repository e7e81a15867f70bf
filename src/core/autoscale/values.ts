// Runtime values of the formula language and how the results string writes
// them. Timestamps are epoch milliseconds (UTC) and time intervals are
// milliseconds; both may carry fractions down to TimeInterval_100ns.
//
// Written forms: doubles as .NET Core writes them (shortest round trip,
// scientific `1E+15` / `1E-05` outside 1e-4 … 1e15), vectors `[1,2,3]`, timestamps `2016-10-13T19:18:47.805Z`,
// strings as they are. Time intervals use .NET's TimeSpan form `[-][d.]hh:mm:ss[.fffffff]`;
// Batch's own rendering of a time interval is not documented.

export type Value =
  | { type: 'double'; value: number }
  | { type: 'doubleVec'; value: readonly number[] }
  | { type: 'string'; value: string }
  | { type: 'timestamp'; value: number }
  | { type: 'timeinterval'; value: number };

export type ValueType = Value['type'];

export const double = (value: number): Value => ({ type: 'double', value });
export const vector = (value: readonly number[]): Value => ({ type: 'doubleVec', value });
export const text = (value: string): Value => ({ type: 'string', value });
export const timestamp = (value: number): Value => ({ type: 'timestamp', value });
export const interval = (value: number): Value => ({ type: 'timeinterval', value });
export const truth = (condition: boolean): Value => double(condition ? 1 : 0);

export function formatDouble(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (n === 0) return '0';
  const magnitude = Math.abs(n);
  if (magnitude >= 1e-4 && magnitude < 1e15) return String(n);
  const [mantissa, exponent = '0'] = n.toExponential().split('e');
  const power = Number(exponent);
  return `${mantissa}E${power < 0 ? '-' : '+'}${String(Math.abs(power)).padStart(2, '0')}`;
}

function formatTimestamp(ms: number): string {
  const date = new Date(Math.floor(ms));
  return Number.isNaN(date.getTime()) ? 'Invalid' : date.toISOString();
}

function formatInterval(ms: number): string {
  if (!Number.isFinite(ms)) return formatDouble(ms);
  const ticks = Math.round(Math.abs(ms) * 10_000);
  const sign = ms < 0 && ticks > 0 ? '-' : '';
  const fraction = ticks % 10_000_000;
  const totalSeconds = Math.floor(ticks / 10_000_000);
  const days = Math.floor(totalSeconds / 86_400);
  const two = (n: number) => String(n).padStart(2, '0');
  const clock = `${two(Math.floor(totalSeconds / 3600) % 24)}:${two(Math.floor(totalSeconds / 60) % 60)}:${two(totalSeconds % 60)}`;
  return `${sign}${days ? `${days}.` : ''}${clock}${fraction ? `.${String(fraction).padStart(7, '0')}` : ''}`;
}

export function formatValue(value: Value): string {
  switch (value.type) {
    case 'double':
      return formatDouble(value.value);
    case 'doubleVec':
      return `[${value.value.map(formatDouble).join(',')}]`;
    case 'string':
      return value.value;
    case 'timestamp':
      return formatTimestamp(value.value);
    case 'timeinterval':
      return formatInterval(value.value);
  }
}

/** A value's size for the work budget: its elements, or its characters when written. */
export function sizeOf(value: Value): number {
  if (value.type === 'doubleVec') return value.value.length;
  if (value.type === 'string') return value.value.length;
  return 1;
}
