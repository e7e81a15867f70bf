// time("...") parsing and timestamp members. The docs name W3C-DTF and
// RFC 1123 as the accepted forms:
//   2016-10-13, 2016-10-13T19:18, 2016-10-13T19:18:47.805Z, 2016-10-13T19:18:47+02:00
//   Thu, 13 Oct 2016 19:18:47 GMT
// A W3C-DTF time without a zone is taken as UTC. Members are UTC, weekday as
// .NET's DayOfWeek (0 Sunday, 1 Monday … 6 Saturday).

const W3C = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;
const RFC1123 = /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2})(?::(\d{2}))? (GMT|UTC|UT|Z|[+-]\d{4})$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function offsetMinutes(zone: string | undefined): number {
  if (!zone || zone === 'Z' || zone === 'GMT' || zone === 'UTC' || zone === 'UT') return 0;
  const digits = zone.replace(':', '');
  const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
  return zone.startsWith('-') ? -minutes : minutes;
}

function build(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number, zone?: string): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC, which reads years below 100 as 19xx
  if (date.getUTCDate() !== day) return undefined; // 31 February and friends
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime() + ms - offsetMinutes(zone) * 60_000;
}

/** Epoch milliseconds, or undefined when the text is neither W3C-DTF nor RFC 1123. */
export function parseDateTime(input: string): number | undefined {
  const value = input.trim();
  const w3c = W3C.exec(value);
  if (w3c) {
    const [, y, mo, d, h, mi, s, frac, zone] = w3c;
    const ms = frac ? Number(`0.${frac}`) * 1000 : 0;
    return build(Number(y), Number(mo ?? 1), Number(d ?? 1), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), ms, zone);
  }
  const rfc = RFC1123.exec(value);
  if (rfc) {
    const [, d, mon, y, h, mi, s, zone] = rfc;
    return build(Number(y), MONTHS.indexOf(mon ?? '') + 1, Number(d), Number(h), Number(mi), Number(s ?? 0), 0, zone);
  }
  return undefined;
}

export const TIMESTAMP_MEMBERS = ['year', 'month', 'day', 'weekday', 'hour', 'minute', 'second'] as const;

export function timestampMember(ms: number, member: string): number | undefined {
  const date = new Date(Math.floor(ms));
  if (Number.isNaN(date.getTime())) return undefined;
  switch (member) {
    case 'year':
      return date.getUTCFullYear();
    case 'month':
      return date.getUTCMonth() + 1;
    case 'day':
      return date.getUTCDate();
    case 'weekday':
      return date.getUTCDay();
    case 'hour':
      return date.getUTCHours();
    case 'minute':
      return date.getUTCMinutes();
    case 'second':
      return date.getUTCSeconds();
    default:
      return undefined;
  }
}
