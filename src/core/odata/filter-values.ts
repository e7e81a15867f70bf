// How filter values compare, shared by the parser and the reference
// evaluator. Each rule mirrors what the SQL translation does in SQLite, so an
// in-memory list and a store query answer the same filter the same way.

/** Lower-cases A–Z only, as SQLite's lower() does without ICU. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (part) => part.toLowerCase());
}

/** Orders strings by Unicode code point, as SQLite orders UTF-8 text (JS `<` orders UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const diff = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0);
    if (diff !== 0) return diff;
  }
}

/**
 * A stored UTC timestamp padded to seven fractional digits, so that
 * `…05Z`, `…05.123Z` and `…05.1230000Z` order as the instants they are.
 * Stored times are `YYYY-MM-DDTHH:MM:SS[.f…]Z` (formatTimestamp and
 * toISOString both write that); the SQL translation computes the same key.
 */
export function timestampSortKey(stored: string): string {
  const fraction = stored[19] === '.' ? stored.slice(20, Math.max(stored.length - 1, 20)) : '';
  return `${stored.slice(0, 19)}.${(fraction + '0000000').slice(0, 7)}Z`;
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?([Zz]|[+-]\d{2}:\d{2})?$/;

export type DatetimeParse = { ok: true; value: string } | { ok: false; reason: string };

/**
 * Reads the text of a `datetime'…'` literal: a date, optionally a time with
 * up to seven fractional digits, and `Z`, an offset or nothing (UTC). Answers
 * the canonical UTC form Batch stores: `2024-01-02T03:04:05.1000000Z`.
 */
export function parseDatetime(text: string): DatetimeParse {
  const match = DATETIME.exec(text);
  if (!match) return { ok: false, reason: 'it is not an ISO-8601 datetime such as 2024-01-02T03:04:05Z' };
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone = 'Z'] = match;
  if (fraction.length > 7) return { ok: false, reason: 'it has more than seven fractional digits of seconds' };
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return { ok: false, reason: 'a field of the date or time is out of range' };
  }
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const [oh, om] = zone.slice(1).split(':').map(Number) as [number, number];
    if (oh > 14 || om > 59) return { ok: false, reason: 'the UTC offset is out of range' };
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCMonth() !== month - 1) return { ok: false, reason: `${y}-${mo} has no day ${d}` };
  date.setUTCHours(hour, minute - offsetMinutes, second, 0);
  const utcYear = date.getUTCFullYear();
  if (utcYear < 1 || utcYear > 9999) return { ok: false, reason: 'the year is outside 0001–9999' };
  return { ok: true, value: `${date.toISOString().slice(0, 19)}.${fraction.padEnd(7, '0')}Z` };
}
