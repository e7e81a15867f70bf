// SharedKey verification against what real clients send: the official
// @azure/batch signer, and small re-implementations of the variants other
// clients produce (see RELIABILITY.md §B1.3), plus every way a request must fail.

import { BatchSharedKeyCredentials } from '@azure/batch';
import { WebResource, type HttpMethods } from '@azure/ms-rest-js';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { stringsToSign, verifySharedKey, type AccountKeys, type AuthResult, type SignedRequest } from '../../src/api/batch/auth/shared-key.js';

const KEY = 'C9WMEdF0k+FTrCkiGkIntEquano5g9OmrrkTiTWVamSJS8etrxIb9NbIpG+QoYEigw/5jYhVmvgHyAsOM2bueg==';
const KEY2 = Buffer.from('the second key of the lapis account, 64 bytes long, base64 here!!').toString('base64');
const BETA_KEY = Buffer.from('the key of another account, beta, which alpha must never accept.').toString('base64');
const BASE = 'http://127.0.0.1:10100';
const VERSION = 'api-version=2022-10-01.16.0';
// A fixed server time; requests carry it in ocp-date so the tests do not depend on the clock.
const NOW = new Date('2024-05-06T07:08:09Z');

const ACCOUNTS = new Map<string, AccountKeys>([
  ['lapis', { name: 'lapis', keys: [Buffer.from(KEY, 'base64')] }],
  ['beta', { name: 'beta', keys: [Buffer.from(BETA_KEY, 'base64')] }],
  ['twokeys', { name: 'twokeys', keys: [Buffer.from(KEY, 'base64'), Buffer.from(KEY2, 'base64')] }],
]);

/** A request as it reaches the server: method, request target and headers. */
interface WireRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
}

function toSigned(request: WireRequest): SignedRequest {
  const headers = new Map(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
  const target = new URL(request.url);
  return {
    method: request.method,
    rawUrl: target.pathname + target.search,
    header: (name) => headers.get(name.toLowerCase()),
    headerNames: () => [...headers.keys()],
  };
}

function verify(request: WireRequest, now = NOW): AuthResult {
  return verifySharedKey(toSigned(request), ACCOUNTS, now);
}

function assertAccepted(request: WireRequest, account = 'lapis'): void {
  const result = verify(request);
  assert.deepEqual(result, { ok: true, account });
}

function assertRejected(request: WireRequest, now = NOW): string {
  const result = verify(request, now);
  assert.equal(result.ok, false, 'the request must be rejected');
  return result.ok ? '' : result.detail;
}

/** Signs with the official @azure/batch signer and adds the Content-Length the HTTP stack would send. */
async function sdkSigned(
  method: HttpMethods,
  url: string,
  options: { body?: string; contentType?: string; account?: string; key?: string; ocpDate?: Date } = {},
): Promise<WireRequest> {
  const resource = new WebResource(url, method, options.body);
  resource.headers.set('ocp-date', (options.ocpDate ?? NOW).toUTCString());
  if (options.contentType) resource.headers.set('Content-Type', options.contentType);
  await new BatchSharedKeyCredentials(options.account ?? 'lapis', options.key ?? KEY).signRequest(resource);
  const headers = resource.headers.rawHeaders();
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  else if (method === 'POST') headers['content-length'] = '0';
  return { method, url, headers };
}

// ---- An independent signer for the variants other clients produce ----

interface Variant {
  /** What the Content-Length line says, whatever the header carries. */
  contentLengthLine?: string;
  /** .NET lower-cases query parameter names (a no-op for Batch's names, which are lower case). */
  lowerQueryNames?: boolean;
  /** Python (msrest and track 2) drops query parameters with empty values: refused by Lapis. */
  dropEmptyQueryValues?: boolean;
  /** .NET signs the Date line empty because ocp-date carries the time. */
  emptyDateLine?: boolean;
}

const STANDARD = ['content-encoding', 'content-language', 'content-length', 'content-md5', 'content-type', 'date', 'if-modified-since', 'if-match', 'if-none-match', 'if-unmodified-since', 'range'];

function variantStringToSign(request: WireRequest, account: string, variant: Variant = {}): string {
  const headers = new Map(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
  const lines = STANDARD.map((name) => {
    if (name === 'content-length' && variant.contentLengthLine !== undefined) return variant.contentLengthLine;
    if (name === 'date' && variant.emptyDateLine) return '';
    return headers.get(name) ?? '';
  });
  const ocp = [...headers.keys()].filter((name) => name.startsWith('ocp-')).sort();
  const target = new URL(request.url);
  const query = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(target.search)) {
    if (variant.dropEmptyQueryValues && value === '') continue;
    const key = variant.lowerQueryNames ? name.toLowerCase() : name;
    query.set(key, [...(query.get(key) ?? []), value]);
  }
  let text = `${request.method}\n${lines.join('\n')}\n`;
  for (const name of ocp) text += `${name}:${headers.get(name)}\n`;
  text += `/${account}${target.pathname}`;
  for (const name of [...query.keys()].sort()) text += `\n${name}:${(query.get(name) ?? []).sort().join(',')}`;
  return text;
}

function hmac(text: string, key: string): string {
  return createHmac('sha256', Buffer.from(key, 'base64')).update(text, 'utf8').digest('base64');
}

/** The request with an Authorization header computed by the variant signer. */
function variantSigned(request: WireRequest, variant: Variant, account = 'lapis', key = KEY): WireRequest {
  const signature = hmac(variantStringToSign(request, account, variant), key);
  return { ...request, headers: { ...request.headers, Authorization: `SharedKey ${account}:${signature}` } };
}

function unsigned(method: string, path: string, headers: Record<string, string> = {}): WireRequest {
  return { method, url: `${BASE}${path}`, headers: { 'ocp-date': NOW.toUTCString(), ...headers } };
}

function withHeaders(request: WireRequest, headers: Record<string, string>): WireRequest {
  return { ...request, headers: { ...request.headers, ...headers } };
}

function withoutHeader(request: WireRequest, name: string): WireRequest {
  return { ...request, headers: Object.fromEntries(Object.entries(request.headers).filter(([header]) => header.toLowerCase() !== name)) };
}

describe('requests signed by @azure/batch are accepted', () => {
  test('GET with a query string', async () => {
    assertAccepted(await sdkSigned('GET', `${BASE}/pools?${VERSION}&$filter=state%20eq%20'active'&maxresults=10`));
  });

  test('POST with a JSON body', async () => {
    const body = JSON.stringify({ id: 'pool-1', vmSize: 'STANDARD_D1_V2' });
    assertAccepted(await sdkSigned('POST', `${BASE}/pools?${VERSION}`, { body, contentType: 'application/json; odata=minimalmetadata; charset=utf-8' }));
  });

  test('POST with an empty body', async () => {
    assertAccepted(await sdkSigned('POST', `${BASE}/pools/pool-1/stopresize?${VERSION}`));
  });

  test("the server's canonical string-to-sign is the one the SDK signed", async () => {
    const request = await sdkSigned('GET', `${BASE}/jobs/job-1/tasks?${VERSION}&$select=id,state`);
    const signed = variantStringToSign(request, 'lapis');
    assert.equal(stringsToSign(toSigned(request), 'lapis')[0], signed);
    assert.equal(request.headers.authorization, `SharedKey lapis:${hmac(signed, KEY)}`);
  });
});

describe('variants other clients produce are accepted', () => {
  test('Content-Length signed "" for an empty body sent with Content-Length: 0 (.NET)', () => {
    assertAccepted(variantSigned(unsigned('POST', `/pools/p/stopresize?${VERSION}`, { 'Content-Length': '0' }), { contentLengthLine: '' }));
  });

  test('Content-Length signed "0" for an empty body sent without Content-Length (Python azure-batch 15)', () => {
    assertAccepted(variantSigned(unsigned('DELETE', `/pools/p?${VERSION}`), { contentLengthLine: '0' }));
  });

  test('query parameter names lower-cased (.NET): the canonical string, since Batch query names are lower case', () => {
    assertAccepted(variantSigned(unsigned('GET', `/pools?${VERSION}&maxresults=5&$select=id`), { lowerQueryNames: true }));
  });

  test('Date signed empty when ocp-date is present (.NET)', () => {
    const request = unsigned('GET', `/pools?${VERSION}`, { Date: NOW.toUTCString() });
    assertAccepted(variantSigned(request, { emptyDateLine: true }));
    assertAccepted(variantSigned(request, {}));
  });

  test('a request timed by Date alone, without ocp-date', () => {
    const request = { method: 'GET', url: `${BASE}/pools?${VERSION}`, headers: { Date: NOW.toUTCString() } };
    assertAccepted(variantSigned(request, {}));
  });
});

describe('rejected requests', () => {
  const getPools = () => sdkSigned('GET', `${BASE}/pools?${VERSION}&$filter=state%20eq%20'active'`);
  const postPool = () =>
    sdkSigned('POST', `${BASE}/pools?${VERSION}`, { body: '{"id":"p1","vmSize":"a1"}', contentType: 'application/json; odata=minimalmetadata; charset=utf-8' });

  test('a wrong key; the detail names the string the server signed', async () => {
    const request = await getPools();
    const wrongKey = Buffer.from('not the key of this account, but a well-formed base64 key here').toString('base64');
    const detail = assertRejected(await sdkSigned('GET', request.url, { key: wrongKey }));
    assert.match(detail, /is not the same as any computed signature/);
    assert.ok(detail.includes(variantStringToSign(request, 'lapis')), detail);
  });

  test("another account's key", async () => {
    assertRejected(await sdkSigned('GET', `${BASE}/pools?${VERSION}`, { key: BETA_KEY }));
    assertAccepted(await sdkSigned('GET', `${BASE}/pools?${VERSION}`, { account: 'beta', key: BETA_KEY }), 'beta');
  });

  test('an unknown account', async () => {
    assertRejected(await sdkSigned('GET', `${BASE}/pools?${VERSION}`, { account: 'nosuchaccount' }));
  });

  test('the verb tampered', async () => {
    assertRejected({ ...(await getPools()), method: 'DELETE' });
  });

  test('the path tampered', async () => {
    const request = await sdkSigned('GET', `${BASE}/pools/pool-a?${VERSION}`);
    assertRejected({ ...request, url: `${BASE}/pools/pool-b?${VERSION}` });
  });

  test('a query value tampered', async () => {
    const request = await getPools();
    assertRejected({ ...request, url: request.url.replace('active', 'deleting') });
  });

  test('a query parameter added', async () => {
    const request = await getPools();
    assertRejected({ ...request, url: `${request.url}&maxresults=1` });
  });

  test('an empty query parameter added after signing (&timeout=)', async () => {
    const request = await getPools();
    assertAccepted(request);
    assertRejected({ ...request, url: `${request.url}&timeout=` });
    assertRejected({ ...request, url: `${request.url}&timeout` });
    assertRejected({ ...request, url: `${request.url}&$select=` });
  });

  test('empty-valued query parameters left out of the signature (as Python signs them): refused, and the detail says why', () => {
    const detail = assertRejected(variantSigned(unsigned('GET', `/pools?${VERSION}&$filter=&timeout=30`), { dropEmptyQueryValues: true }));
    assert.match(detail, /does not cover the query parameters with empty values \(\$filter\)/);
  });

  test('a query parameter name sent in another case than signed', async () => {
    const request = await sdkSigned('GET', `${BASE}/pools?${VERSION}&maxresults=5`);
    assertRejected({ ...request, url: request.url.replace('maxresults', 'MaxResults') });
    assertRejected(variantSigned(unsigned('GET', `/pools?${VERSION}&MaxResults=5`), { lowerQueryNames: true }));
  });

  test('Content-Length signed "0" is not accepted for a GET without Content-Length, nor with Transfer-Encoding', () => {
    assertRejected(variantSigned(unsigned('GET', `/pools?${VERSION}`), { contentLengthLine: '0' }));
    assertRejected(variantSigned(unsigned('POST', `/pools/p/stopresize?${VERSION}`, { 'Transfer-Encoding': 'chunked' }), { contentLengthLine: '0' }));
  });

  test('ocp-date tampered, still within the allowed skew', async () => {
    const request = await getPools();
    assertRejected(withHeaders(request, { 'ocp-date': new Date(NOW.getTime() + 1000).toUTCString() }));
  });

  test('content-type tampered', async () => {
    assertRejected(withHeaders(await postPool(), { 'content-type': 'text/plain' }));
  });

  test('content-length tampered', async () => {
    const request = await postPool();
    assertRejected(withHeaders(request, { 'content-length': String(Number(request.headers['content-length']) + 1) }));
    assertRejected(withHeaders(await sdkSigned('POST', `${BASE}/pools/p/stopresize?${VERSION}`), { 'content-length': '1' }));
  });

  test('ocp-date more than 15 minutes old or in the future', async () => {
    const minute = 60_000;
    for (const offset of [-16 * minute, 16 * minute, -24 * 60 * minute]) {
      const request = await sdkSigned('GET', `${BASE}/pools?${VERSION}`, { ocpDate: new Date(NOW.getTime() + offset) });
      assert.match(assertRejected(request), /15 minutes/);
    }
    // Within the window, on either side, is fine.
    for (const offset of [-14 * minute, 14 * minute]) {
      assertAccepted(await sdkSigned('GET', `${BASE}/pools?${VERSION}`, { ocpDate: new Date(NOW.getTime() + offset) }));
    }
  });

  test('neither ocp-date nor Date, or an unreadable date', async () => {
    const request = await getPools();
    assertRejected(withoutHeader(request, 'ocp-date'));
    assertRejected(variantSigned(unsigned('GET', `/pools?${VERSION}`, { 'ocp-date': 'yesterday-ish' }), {}));
  });

  test('missing Authorization', async () => {
    assert.match(assertRejected(withoutHeader(await getPools(), 'authorization')), /missing/);
  });

  test('malformed Authorization', async () => {
    const request = await getPools();
    const signature = request.headers.authorization?.split(':')[1] ?? '';
    for (const authorization of ['Bearer x', 'SharedKey nocolon', 'SharedKey lapis:not*base64!', `SharedKey lapis:${signature}extra!`, `SharedKey :${signature}`, `SharedKeyLite lapis:${signature}`]) {
      assert.match(assertRejected(withHeaders(request, { authorization })), /not of the form/, authorization);
    }
  });

  test('a signature of the wrong length', async () => {
    const request = await getPools();
    assertRejected(withHeaders(request, { authorization: `SharedKey lapis:${Buffer.alloc(16).toString('base64')}` }));
  });
});

describe('accounts with two keys', () => {
  test('either key is accepted', async () => {
    assertAccepted(await sdkSigned('GET', `${BASE}/pools?${VERSION}`, { account: 'twokeys', key: KEY }), 'twokeys');
    assertAccepted(await sdkSigned('GET', `${BASE}/pools?${VERSION}`, { account: 'twokeys', key: KEY2 }), 'twokeys');
    assertRejected(await sdkSigned('GET', `${BASE}/pools?${VERSION}`, { account: 'twokeys', key: BETA_KEY }));
  });

  test('the account name is matched without regard to case', async () => {
    assertAccepted(await sdkSigned('GET', `${BASE}/pools?${VERSION}`, { account: 'TwoKeys', key: KEY2 }), 'twokeys');
  });
});
