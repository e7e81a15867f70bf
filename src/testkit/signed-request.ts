// Requests the SDK cannot produce (no Authorization, stale dates, bad JSON,
// traversal paths), signed by the SDK's own signer unless told otherwise.
// Sent with node:http so the request target reaches the server byte for
// byte: fetch would resolve `..` and `%2e%2e` segments before sending.

import { BatchSharedKeyCredentials } from '@azure/batch';
import { WebResource, type HttpMethods } from '@azure/ms-rest-js';
import http from 'node:http';
import https from 'node:https';
import type { TestServer } from './test-server.js';

export const PRIMARY_API_VERSION = '2022-10-01.16.0';
export const JSON_REQUEST_TYPE = 'application/json; odata=minimalmetadata; charset=utf-8';

export interface SignedRequestOptions {
  body?: string;
  /** Query string without the leading '?'; defaults to the primary api-version. */
  query?: string;
  /** Sign as this account with this key; `false` sends no Authorization at all. */
  credentials?: { name: string; key: string } | false;
  ocpDate?: Date;
  headers?: Record<string, string>;
}

export interface BatchErrorBody {
  'odata.metadata'?: string;
  code?: string;
  message?: { lang?: string; value?: string };
  values?: { key: string; value: string }[];
}

export interface SignedResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or {} when the body is empty or not JSON. */
  body: BatchErrorBody & Record<string, unknown>;
}

/** The request target and signed headers of a request, for tests that write its bytes themselves (slow or stalled bodies). */
export async function signedRequestHead(
  server: TestServer,
  method: HttpMethods,
  path: string,
  options: SignedRequestOptions = {},
): Promise<{ target: string; headers: Record<string, string> }> {
  const url = `${server.lapis.batchUrl}${path}?${options.query ?? `api-version=${PRIMARY_API_VERSION}`}`;
  const resource = new WebResource(url, method, options.body);
  if (options.body !== undefined) resource.headers.set('Content-Type', JSON_REQUEST_TYPE);
  for (const [name, value] of Object.entries(options.headers ?? {})) resource.headers.set(name, value);
  resource.headers.set('ocp-date', (options.ocpDate ?? new Date()).toUTCString());
  const credentials = options.credentials ?? server.account;
  if (credentials) await new BatchSharedKeyCredentials(credentials.name, credentials.key).signRequest(resource);
  const headers: Record<string, string> = resource.headers.rawHeaders();
  if (options.body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-length')) {
    headers['Content-Length'] = String(Buffer.byteLength(options.body));
  }
  return { target: url.slice(server.lapis.batchUrl.length), headers };
}

export async function signedRequest(server: TestServer, method: HttpMethods, path: string, options: SignedRequestOptions = {}): Promise<SignedResponse> {
  const { target: requestTarget, headers } = await signedRequestHead(server, method, path, options);
  const target = new URL(server.lapis.batchUrl);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      { host: target.hostname, port: target.port, method, path: requestTarget, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const replyHeaders = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (value !== undefined) replyHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
          }
          resolve({ status: response.statusCode ?? 0, headers: replyHeaders, text, body: parseJson(text) });
        });
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

function parseJson(text: string): SignedResponse['body'] {
  try {
    return text ? (JSON.parse(text) as SignedResponse['body']) : {};
  } catch {
    return {};
  }
}

/** The value of one entry of a Batch error's `values`. */
export function errorDetail(body: BatchErrorBody, key: string): string | undefined {
  return body.values?.find((entry) => entry.key === key)?.value;
}
