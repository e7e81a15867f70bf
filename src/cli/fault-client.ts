// The failure-injection API (/lapis/faults, docs/testing-your-batch-app.md)
// through the SDK's own pipeline, which signs each request with the account's
// key; used by `lapis fault` and by tests as an application's test suite would.

import type { BatchServiceClient } from '@azure/batch';
import type { FaultSpec, InjectedFault } from '../core/faults.js';

/** A fault as a client sends it: the spec without what the server derives. */
export type FaultRequest = { [T in FaultSpec['type']]: Omit<Extract<FaultSpec, { type: T }>, 'durationMs' | 'count'> & { count?: number } }[FaultSpec['type']];

/** A refused request: the Batch error's code and message, as describeError prints them. */
export class FaultApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export class FaultClient {
  constructor(
    private readonly batch: BatchServiceClient,
    private readonly baseUrl: string,
  ) {}

  async add(fault: FaultRequest): Promise<InjectedFault> {
    return (await this.send('POST', '/lapis/faults', fault)) as InjectedFault;
  }

  async list(): Promise<InjectedFault[]> {
    return ((await this.send('GET', '/lapis/faults')) as { value: InjectedFault[] }).value;
  }

  async remove(id: string): Promise<void> {
    await this.send('DELETE', `/lapis/faults/${encodeURIComponent(id)}`);
  }

  private async send(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const response = await this.batch.sendRequest({
      method,
      url: `${this.baseUrl.replace(/\/$/, '')}${path}`,
      ...(body === undefined ? {} : { body, headers: { 'Content-Type': 'application/json; charset=utf-8' } }),
    });
    const text = response.bodyAsText ?? '';
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    if (response.status >= 400) {
      const error = parsed as { code?: string; message?: { value?: string }; values?: { key: string; value: string }[] } | undefined;
      const detail = error?.values?.map((value) => `${value.key}: ${value.value}`).join('; ');
      throw new FaultApiError(response.status, error?.code, `${error?.message?.value ?? `the fault API answered ${response.status}`}${detail ? ` (${detail})` : ''}`);
    }
    return parsed;
  }
}
