// SharedKey authentication exactly as Azure Batch computes it:
//
//   Authorization: SharedKey <account>:<base64 HMAC-SHA256(base64-decoded key, StringToSign)>
//   StringToSign = VERB\n Content-Encoding\n Content-Language\n Content-Length\n
//                  Content-MD5\n Content-Type\n Date\n If-Modified-Since\n If-Match\n
//                  If-None-Match\n If-Unmodified-Since\n Range\n
//                  <ocp-* headers, lower-cased, sorted, "name:value\n">
//                  /<account><raw path>[\n<query name>:<decoded value>]… (sorted by name)
//
// Real clients differ in small ways (Content-Length "" or "0" for an empty
// body, query names as sent or lower-cased, empty query values dropped, a
// Date line signed empty when ocp-date is present), so the verifier builds
// each variant and accepts any match. Digests are compared in constant time
// with both account keys.

import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedRequest {
  method: string;
  /** The request target as received: raw path and query, not decoded. */
  rawUrl: string;
  header(name: string): string | undefined;
  /** Every header name in the request, any case. */
  headerNames(): string[];
}

export interface AccountKeys {
  name: string;
  keys: Buffer[];
}

export type AuthResult = { ok: true; account: string } | { ok: false; detail: string };

const MAX_CLOCK_SKEW_MS = 15 * 60_000;
/** What an unknown account's signature is checked against, so that failing takes as long as for a known one. */
const UNKNOWN_ACCOUNT_KEY = Buffer.alloc(64);
const STANDARD_HEADERS = [
  'content-encoding',
  'content-language',
  'content-length',
  'content-md5',
  'content-type',
  'date',
  'if-modified-since',
  'if-match',
  'if-none-match',
  'if-unmodified-since',
  'range',
] as const;
const CONTENT_LENGTH_LINE = STANDARD_HEADERS.indexOf('content-length');
const DATE_LINE = STANDARD_HEADERS.indexOf('date');

interface QueryParameter {
  name: string;
  value: string;
}

function decodeComponent(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

export function parseRawQuery(rawUrl: string): QueryParameter[] {
  const index = rawUrl.indexOf('?');
  if (index < 0) return [];
  return rawUrl
    .slice(index + 1)
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const equals = part.indexOf('=');
      const name = equals < 0 ? part : part.slice(0, equals);
      const value = equals < 0 ? '' : part.slice(equals + 1);
      return { name: decodeComponent(name), value: decodeComponent(value) };
    });
}

function canonicalizedHeaders(request: SignedRequest): string {
  const names = [...new Set(request.headerNames().map((name) => name.toLowerCase()))].filter((name) => name.startsWith('ocp-')).sort();
  let text = '';
  for (const name of names) {
    const value = request.header(name)?.replace(/\s+/g, ' ').trim();
    if (value) text += `${name}:${value}\n`;
  }
  return text;
}

function canonicalizedResource(account: string, rawPath: string, query: QueryParameter[], lowerNames: boolean, dropEmpty: boolean): string {
  const grouped = new Map<string, string[]>();
  for (const { name, value } of query) {
    if (dropEmpty && value === '') continue;
    const key = lowerNames ? name.toLowerCase() : name;
    const values = grouped.get(key) ?? [];
    values.push(value);
    grouped.set(key, values);
  }
  let text = `/${account}${rawPath}`;
  for (const name of [...grouped.keys()].sort()) {
    const values = grouped.get(name) as string[];
    text += `\n${name}:${(values.length > 1 ? [...values].sort() : values).join(',')}`;
  }
  return text;
}

/** The candidate strings-to-sign, the first being the canonical form reported on failure. */
export function stringsToSign(request: SignedRequest, account: string): string[] {
  return [...candidatesToSign(request, account)];
}

/**
 * stringsToSign one at a time: the variants after the canonical form are
 * built only when it did not match, since every request is verified and
 * real clients send the canonical form.
 */
function* candidatesToSign(request: SignedRequest, account: string): Generator<string> {
  const rawPath = request.rawUrl.split('?')[0] || '/';
  const query = parseRawQuery(request.rawUrl);
  const standard = STANDARD_HEADERS.map((name) => request.header(name) ?? '');
  const contentLength = standard[CONTENT_LENGTH_LINE] as string;
  const date = standard[DATE_LINE] as string;
  const headers = canonicalizedHeaders(request);
  const method = request.method.toUpperCase();
  const prefix = (contentLengthLine: string, dateLine: string) => {
    standard[CONTENT_LENGTH_LINE] = contentLengthLine;
    standard[DATE_LINE] = dateLine;
    return `${method}\n${standard.join('\n')}\n${headers}`;
  };
  const canonicalResource = canonicalizedResource(account, rawPath, query, false, false);
  yield prefix(contentLength, date) + canonicalResource;

  const contentLengths = new Set([contentLength]);
  if (contentLength === '0') contentLengths.add('');
  if (contentLength === '') contentLengths.add('0');
  const dates = new Set([date]);
  if (request.header('ocp-date')) dates.add('');
  const resources = new Set([canonicalResource]);
  for (const lowerNames of [false, true]) {
    for (const dropEmpty of [false, true]) resources.add(canonicalizedResource(account, rawPath, query, lowerNames, dropEmpty));
  }
  let first = true;
  for (const contentLengthLine of contentLengths) {
    for (const dateLine of dates) {
      const lines = prefix(contentLengthLine, dateLine);
      for (const resource of resources) {
        if (!first) yield lines + resource;
        first = false;
      }
    }
  }
}

export function sign(stringToSign: string, key: Buffer): Buffer {
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest();
}

const AUTHORIZATION = /^SharedKey ([^:\s]+):([A-Za-z0-9+/]+={0,2})$/;

export function verifySharedKey(request: SignedRequest, accounts: Map<string, AccountKeys>, now: Date): AuthResult {
  const authorization = request.header('authorization');
  if (!authorization) return { ok: false, detail: 'The Authorization header is missing.' };
  const match = AUTHORIZATION.exec(authorization.trim());
  if (!match) return { ok: false, detail: 'The Authorization header is not of the form "SharedKey <account>:<signature>".' };
  const [, accountName = '', signatureText = ''] = match;
  const signature = Buffer.from(signatureText, 'base64');

  const dateText = request.header('ocp-date') ?? request.header('date');
  if (!dateText) return { ok: false, detail: 'The request has neither an ocp-date nor a Date header.' };
  const sent = Date.parse(dateText);
  if (Number.isNaN(sent)) return { ok: false, detail: `The date '${dateText}' is not a valid RFC 1123 date.` };
  if (Math.abs(now.getTime() - sent) > MAX_CLOCK_SKEW_MS) {
    return { ok: false, detail: `The request time '${dateText}' is more than 15 minutes away from the server time.` };
  }

  const account = accounts.get(accountName.toLowerCase());
  // Unknown accounts go through the same work, so timing does not reveal which accounts exist.
  const keys = account?.keys ?? [UNKNOWN_ACCOUNT_KEY];
  // The canonical form with the primary key comes first and is what clients send: a match ends the search
  // (a failure still tries every variant with every key).
  let canonical: string | undefined;
  for (const candidate of candidatesToSign(request, accountName)) {
    canonical ??= candidate;
    for (const key of keys) {
      const expected = sign(candidate, key);
      if (account && expected.length === signature.length && timingSafeEqual(expected, signature)) return { ok: true, account: account.name };
    }
  }
  return {
    ok: false,
    detail: `The MAC signature found in the HTTP request '${signatureText}' is not the same as any computed signature. Server used following string to sign: '${canonical}'.`,
  };
}
