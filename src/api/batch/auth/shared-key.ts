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

interface QueryParameter {
  name: string;
  value: string;
}

function decodeComponent(text: string): string {
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
  const rawPath = request.rawUrl.split('?')[0] || '/';
  const query = parseRawQuery(request.rawUrl);
  const header = (name: string) => request.header(name) ?? '';
  const contentLengths = new Set([header('content-length')]);
  if (header('content-length') === '0') contentLengths.add('');
  if (header('content-length') === '') contentLengths.add('0');
  const dates = new Set([header('date')]);
  if (header('ocp-date')) dates.add('');
  const headers = canonicalizedHeaders(request);
  const resources = new Set<string>();
  for (const lowerNames of [false, true]) {
    for (const dropEmpty of [false, true]) resources.add(canonicalizedResource(account, rawPath, query, lowerNames, dropEmpty));
  }
  const candidates: string[] = [];
  for (const contentLength of contentLengths) {
    for (const date of dates) {
      const standard = STANDARD_HEADERS.map((name) => (name === 'content-length' ? contentLength : name === 'date' ? date : header(name)));
      const prefix = `${request.method.toUpperCase()}\n${standard.join('\n')}\n${headers}`;
      for (const resource of resources) candidates.push(prefix + resource);
    }
  }
  return candidates;
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
  const candidates = stringsToSign(request, accountName);
  // Unknown accounts go through the same work, so timing does not reveal which accounts exist.
  const keys = account?.keys ?? [Buffer.alloc(64)];
  let matched = false;
  for (const key of keys) {
    for (const candidate of candidates) {
      const expected = sign(candidate, key);
      if (expected.length === signature.length && timingSafeEqual(expected, signature)) matched = true;
    }
  }
  if (matched && account) return { ok: true, account: account.name };
  return {
    ok: false,
    detail: `The MAC signature found in the HTTP request '${signatureText}' is not the same as any computed signature. Server used following string to sign: '${candidates[0]}'.`,
  };
}
