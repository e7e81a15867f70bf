// Time as Batch writes it: ISO-8601 durations for TimeSpans (with .NET's
// TimeSpan.MaxValue standing for "unlimited") and UTC datetimes with seven
// fractional digits. Pure functions: the current time always comes from a Clock.

export interface Clock {
  now(): Date;
}

/** .NET TimeSpan.MaxValue, Batch's rendering of an unlimited duration. */
export const UNLIMITED_DURATION = 'P10675199DT2H48M5.4775807S';
const UNLIMITED_MS = Number.MAX_SAFE_INTEGER;

const DURATION = /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Parses an ISO-8601 duration to milliseconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (text.length > 64) return undefined;
  const match = DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [, years, months, weeks, days, hours, minutes, seconds] = match.map((part) => (part === undefined ? 0 : Number(part)));
  const ms =
    (years ?? 0) * 365 * 86_400_000 +
    (months ?? 0) * 30 * 86_400_000 +
    (weeks ?? 0) * 7 * 86_400_000 +
    (days ?? 0) * 86_400_000 +
    (hours ?? 0) * 3_600_000 +
    (minutes ?? 0) * 60_000 +
    (seconds ?? 0) * 1000;
  if (!Number.isFinite(ms)) return undefined;
  // Anything at or beyond TimeSpan.MaxValue means "no limit".
  return ms >= 922_337_203_685_477 ? UNLIMITED_MS : Math.round(ms);
}

export function isUnlimited(ms: number): boolean {
  return ms >= UNLIMITED_MS;
}

/** Formats milliseconds as Batch does: `P1DT2H3M4.5S`, `PT15M`, or the unlimited value. */
export function formatDuration(ms: number): string {
  if (isUnlimited(ms)) return UNLIMITED_DURATION;
  let rest = Math.max(0, Math.round(ms));
  const days = Math.floor(rest / 86_400_000);
  rest -= days * 86_400_000;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = rest / 1000;
  let text = 'P';
  if (days) text += `${days}D`;
  if (hours || minutes || seconds || !days) {
    text += 'T';
    if (hours) text += `${hours}H`;
    if (minutes) text += `${minutes}M`;
    if (seconds || (!hours && !minutes)) text += `${seconds}S`;
  }
  return text;
}

/** Normalizes a duration string from a client to Batch's canonical form. */
export function normalizeDuration(text: string): string | undefined {
  const ms = parseDuration(text);
  return ms === undefined ? undefined : formatDuration(ms);
}

/** An ISO-8601 UTC datetime with the seven fractional digits Batch writes. */
export function formatTimestamp(date: Date): string {
  // toISOString always ends in `.sssZ`; a slice is several times cheaper than a regex, and every mutation stamps times.
  return `${date.toISOString().slice(0, -1)}0000Z`;
}

/** .NET ticks (100 ns since 0001-01-01), the basis of Batch's ETags. */
export function toTicks(date: Date): bigint {
  return (BigInt(date.getTime()) + 62_135_596_800_000n) * 10_000n;
}
