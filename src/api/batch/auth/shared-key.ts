// SharedKey authentication exactly as Azure Batch computes it:
//
//   Authorization: SharedKey <account>:<base64 HMAC-SHA256(base64-decoded key, StringToSign)>
//   StringToSign = VERB\n Content-Encoding\n Content-Language\n Content-Length\n
//                  Content-MD5\n Content-Type\n Date\n If-Modified-Since\n If-Match\n
//                  If-None-Match\n If-Unmodified-Since\n Range\n
//                  <ocp-* headers, lower-cased, sorted, "name:value\n">
//                  /<account><raw path>[\n<query name>:<decoded value>]… (sorted by name)
//
// The verifier accepts the canonical string and only the variants that real
// clients produce, each listed with the client that sends it (read from
// their signing code):
//
//   canonical  @azure/batch 10 (ms-rest-js, batchSharedKeyCredentials.js): the
//              Content-Length header, or the body's length, "0" for a bodyless
//              POST, "" otherwise; query names as sent, values decoded, empty
//              values kept. Python azure-batch 13 and az 2.45 (msrest,
//              azure/batch/batch_auth.py): requests sends Content-Length: 0 for
//              every bodyless verb but GET/HEAD and signs the header as sent;
//              query names as sent, values decoded.
//   CL ""      .NET (Azure.Compute.Batch, Microsoft.Azure.Batch) signs an empty
//              Content-Length line for a body of 0 bytes sent with Content-Length: 0.
//   CL "0"     Python azure-batch 15 signs "0" for a bodyless DELETE/PUT/POST
//              whose transport then sends no Content-Length (accepted only when
//              there is no Transfer-Encoding either, so the body is empty).
//   Date ""    .NET signs the Date line empty when ocp-date carries the time.
//
// Not accepted, though some clients sign that way:
//   - Query parameters left out of the signature. Python's msrest signer (and
//     track 2) drops empty values (`if value:`), so a request it signs with an
//     empty-valued parameter fails here: accepting that variant would let
//     anyone add `&timeout=` or `&$filter=` to a captured request. Every query
//     parameter that was sent must be signed; Lapis's error says which
//     parameters were left out (send no empty-valued parameters from Python).
//   - Lower-cased query names (.NET): every Batch query name is lower case
//     already, so .NET's string is the canonical one; a name sent in another
//     case would be a change the signature does not cover.
//
// Signatures are compared in constant time (timingSafeEqual), with both
// account keys; an unknown account does the same work against a dummy key.

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

/**
 * Why a request failed, for the server's log only: the client's error is the
 * same whether the account is unknown or the key wrong, so that answers do
 * not reveal which accounts exist, but the operator needs to tell them apart.
 */
export type AuthFailureReason = 'missing or malformed header' | 'bad date' | 'unknown account' | 'wrong signature';

export type AuthResult = { ok: true; account: string } | { ok: false; detail: string; reason: AuthFailureReason; account?: string };

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

function canonicalizedResource(account: string, rawPath: string, query: QueryParameter[], dropEmpty = false): string {
  const grouped = new Map<string, string[]>();
  for (const { name, value } of query) {
    if (dropEmpty && value === '') continue;
    const values = grouped.get(name) ?? [];
    values.push(value);
    grouped.set(name, values);
  }
  let text = `/${account}${rawPath}`;
  for (const name of [...grouped.keys()].sort()) {
    const values = grouped.get(name) as string[];
    text += `\n${name}:${(values.length > 1 ? [...values].sort() : values).join(',')}`;
  }
  return text;
}

interface Canonical {
  /** The standard header lines with Content-Length and Date replaced, then the ocp-* headers. */
  prefix(contentLengthLine: string, dateLine: string): string;
  contentLength: string;
  date: string;
  resource: string;
}

function canonicalParts(request: SignedRequest, account: string): Canonical & { rawPath: string; query: QueryParameter[] } {
  const rawPath = request.rawUrl.split('?')[0] || '/';
  const query = parseRawQuery(request.rawUrl);
  const standard = STANDARD_HEADERS.map((name) => request.header(name) ?? '');
  const contentLength = standard[CONTENT_LENGTH_LINE] as string;
  const date = standard[DATE_LINE] as string;
  const headers = canonicalizedHeaders(request);
  const method = request.method.toUpperCase();
  return {
    rawPath,
    query,
    contentLength,
    date,
    resource: canonicalizedResource(account, rawPath, query),
    prefix(contentLengthLine, dateLine) {
      standard[CONTENT_LENGTH_LINE] = contentLengthLine;
      standard[DATE_LINE] = dateLine;
      return `${method}\n${standard.join('\n')}\n${headers}`;
    },
  };
}

/** The candidate strings-to-sign, the first being the canonical form reported on failure. */
export function stringsToSign(request: SignedRequest, account: string): string[] {
  return [...candidatesToSign(request, account)];
}

/**
 * stringsToSign one at a time: the variants after the canonical form are
 * built only when it did not match, since every request is verified and
 * most clients send the canonical form. Every variant signs every query
 * parameter that was sent, as sent.
 */
function* candidatesToSign(request: SignedRequest, account: string): Generator<string> {
  const canonical = canonicalParts(request, account);
  const { contentLength, date, resource } = canonical;
  yield canonical.prefix(contentLength, date) + resource;

  const contentLengths = [contentLength];
  // .NET: a 0-byte body sent with Content-Length: 0, signed with an empty line.
  if (contentLength === '0') contentLengths.push('');
  // Python azure-batch 15: signed "0", sent without Content-Length (and so without a body).
  if (contentLength === '' && request.header('transfer-encoding') === undefined && request.method.toUpperCase() !== 'GET' && request.method.toUpperCase() !== 'HEAD') {
    contentLengths.push('0');
  }
  const dates = [date];
  // .NET: the Date line signed empty because ocp-date carries the time.
  if (date !== '' && request.header('ocp-date')) dates.push('');
  for (const contentLengthLine of contentLengths) {
    for (const dateLine of dates) {
      if (contentLengthLine === contentLength && dateLine === date) continue;
      yield canonical.prefix(contentLengthLine, dateLine) + resource;
    }
  }
}

/**
 * For a failed request only: whether the signature matches the request
 * without its empty-valued query parameters (as Python's signer computes it),
 * to say so in the error. The request is refused either way. Returns the
 * names of those parameters when it does.
 */
function signedWithoutEmptyQueryValues(request: SignedRequest, account: string, keys: Buffer[], signature: Buffer): string | undefined {
  const canonical = canonicalParts(request, account);
  const empty = canonical.query.filter((parameter) => parameter.value === '').map((parameter) => parameter.name);
  if (empty.length === 0) return undefined;
  const candidate = canonical.prefix(canonical.contentLength, canonical.date) + canonicalizedResource(account, canonical.rawPath, canonical.query, true);
  const matches = keys.some((key) => {
    const expected = sign(candidate, key);
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  });
  return matches ? empty.join(', ') : undefined;
}

export function sign(stringToSign: string, key: Buffer): Buffer {
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest();
}

const AUTHORIZATION = /^SharedKey ([^:\s]+):([A-Za-z0-9+/]+={0,2})$/;

export function verifySharedKey(request: SignedRequest, accounts: Map<string, AccountKeys>, now: Date): AuthResult {
  const authorization = request.header('authorization');
  if (!authorization) return { ok: false, reason: 'missing or malformed header', detail: 'The Authorization header is missing.' };
  const match = AUTHORIZATION.exec(authorization.trim());
  if (!match) return { ok: false, reason: 'missing or malformed header', detail: 'The Authorization header is not of the form "SharedKey <account>:<signature>".' };
  const [, accountName = '', signatureText = ''] = match;
  const signature = Buffer.from(signatureText, 'base64');

  const dateText = request.header('ocp-date') ?? request.header('date');
  if (!dateText) return { ok: false, reason: 'bad date', account: accountName, detail: 'The request has neither an ocp-date nor a Date header.' };
  const sent = Date.parse(dateText);
  if (Number.isNaN(sent)) return { ok: false, reason: 'bad date', account: accountName, detail: `The date '${dateText}' is not a valid RFC 1123 date.` };
  if (Math.abs(now.getTime() - sent) > MAX_CLOCK_SKEW_MS) {
    return { ok: false, reason: 'bad date', account: accountName, detail: `The request time '${dateText}' is more than 15 minutes away from the server time.` };
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
  if (account) {
    const unsigned = signedWithoutEmptyQueryValues(request, accountName, keys, signature);
    if (unsigned) {
      return {
        ok: false,
        reason: 'wrong signature',
        account: accountName,
        detail: `The signature does not cover the query parameters with empty values (${unsigned}). Every query parameter sent must be signed: leave out parameters that have no value.`,
      };
    }
  }
  return {
    ok: false,
    reason: account ? 'wrong signature' : 'unknown account',
    account: accountName,
    detail: `The MAC signature found in the HTTP request '${signatureText}' is not the same as any computed signature. Server used following string to sign: '${canonical}'.`,
  };
}
