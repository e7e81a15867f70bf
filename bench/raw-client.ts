// A lean Batch client for measuring the server rather than the SDK: request
// bodies serialized once up front, each request signed with @azure/batch's own
// SharedKey signer and sent over keep-alive node:http connections, answers
// parsed with JSON.parse only. The @azure/batch client spends several ms of
// CPU per 100-task request on its mappers, which on 2 cores caps what any
// server can be seen to take.

import { BatchSharedKeyCredentials } from '@azure/batch';
import { WebResource, type HttpMethods } from '@azure/ms-rest-js';
import http from 'node:http';
import { DEV_ACCOUNT } from '../src/config/config.js';
import { COLLECTION_LIMIT } from './batch-helpers.js';
import { inParallel } from './stats.js';

const API_VERSION = '2022-10-01.16.0';
const JSON_TYPE = 'application/json; odata=minimalmetadata; charset=utf-8';

export class RawBatchClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly credentials = new BatchSharedKeyCredentials(DEV_ACCOUNT.name, DEV_ACCOUNT.key);
  private readonly origin: URL;

  constructor(batchUrl: string) {
    this.origin = new URL(batchUrl);
  }

  /** `target` is a path with its query, or an absolute URL on this server (an odata.nextLink). */
  async request(method: HttpMethods, target: string, body?: string): Promise<{ status: number; text: string }> {
    const url = target.startsWith('http') ? target : `${this.origin.origin}${target}${target.includes('?') ? '&' : '?'}api-version=${API_VERSION}`;
    const resource = new WebResource(url, method, body);
    if (body !== undefined) {
      resource.headers.set('Content-Type', JSON_TYPE);
      resource.headers.set('Content-Length', String(Buffer.byteLength(body)));
    }
    resource.headers.set('ocp-date', new Date().toUTCString());
    await this.credentials.signRequest(resource);
    const parsed = new URL(url);
    return new Promise((resolve, reject) => {
      const request = http.request(
        { host: parsed.hostname, port: parsed.port, method, path: `${parsed.pathname}${parsed.search}`, headers: resource.headers.rawHeaders(), agent: this.agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  /** addCollection of pre-serialized bodies, `parallel` requests in flight; throws on any task not added. */
  async addCollections(jobId: string, bodies: string[], parallel: number): Promise<void> {
    await inParallel(bodies, parallel, async (body) => {
      const { status, text } = await this.request('POST', `/jobs/${encodeURIComponent(jobId)}/addtaskcollection`, body);
      if (status !== 200) throw new Error(`addtaskcollection answered ${status}: ${text.slice(0, 200)}`);
      const value = (JSON.parse(text) as { value?: { status: string }[] }).value ?? [];
      if (value.some((entry) => entry.status !== 'success')) throw new Error(`some tasks were not added: ${text.slice(0, 200)}`);
    });
  }

  /** Every task of a job through the pages of 1000; resolves with how many. */
  async listAll(jobId: string): Promise<{ tasks: number; pages: number }> {
    let next: string | undefined = `/jobs/${encodeURIComponent(jobId)}/tasks?maxresults=1000`;
    let tasks = 0;
    let pages = 0;
    while (next) {
      const { status, text } = await this.request('GET', next);
      if (status !== 200) throw new Error(`task list answered ${status}: ${text.slice(0, 200)}`);
      const page = JSON.parse(text) as { value?: unknown[]; 'odata.nextLink'?: string };
      tasks += page.value?.length ?? 0;
      pages++;
      next = page['odata.nextLink'];
    }
    return { tasks, pages };
  }

  close(): void {
    this.agent.destroy();
  }
}

/** addCollection bodies for `count` trivial tasks with ids `${prefix}0…`, serialized once. */
export function collectionBodies(count: number, prefix: string): string[] {
  const bodies: string[] = [];
  for (let from = 0; from < count; from += COLLECTION_LIMIT) {
    const value = [];
    for (let index = from; index < Math.min(count, from + COLLECTION_LIMIT); index++) value.push({ id: `${prefix}${index}`, commandLine: '/bin/true' });
    bodies.push(JSON.stringify({ value }));
  }
  return bodies;
}
