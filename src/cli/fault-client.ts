// The failure-injection API (/lapis/faults, docs/testing-your-batch-app.md)
// through the SDK's own pipeline, which signs each request with the account's
// key; used by `lapis fault` and by tests as an application's test suite would.
// The faults' shapes are the documented JSON, read here as data: the CLI speaks HTTP only.

import type { BatchServiceClient } from '@azure/batch';

export interface FailureInfoRequest {
  category?: 'usererror' | 'servererror';
  code: string;
  message?: string;
}

/** A fault as a client sends it (docs/testing-your-batch-app.md). */
export type FaultRequest =
  | { type: 'nodeUnusable'; poolId: string; nodeId: string }
  | { type: 'heartbeatLoss'; poolId: string; nodeId: string; duration: string }
  | { type: 'startTaskFailure'; poolId: string; count?: number; exitCode?: number; failureInfo?: FailureInfoRequest }
  | { type: 'startTaskHang'; poolId: string; count?: number }
  | { type: 'preemption'; poolId: string; nodeId?: string; duration?: string }
  | { type: 'taskFailure'; poolId?: string; jobId?: string; count?: number; failureInfo: FailureInfoRequest }
  | { type: 'resourceFileFailure'; poolId?: string; jobId?: string; count?: number; code?: string }
  | { type: 'outputFileFailure'; poolId?: string; jobId?: string; count?: number; code?: string }
  | { type: 'allocationDelay'; poolId: string; duration: string };

/** A fault as the server answers it: the request as it reads it, its id, and the runs a counted fault has left to take. */
export type InjectedFault = FaultRequest & { id: string; created: string; remaining?: number; durationMs?: number };

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

  /** Each kind of fault the server offers and what it does. */
  async kinds(): Promise<{ type: string; description: string }[]> {
    return ((await this.send('GET', '/lapis/faults/kinds')) as { value: { type: string; description: string }[] }).value;
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
      // The message's first line (the rest is the request id and time), then the values that name the field.
      const message = error?.message?.value?.split('\n')[0] ?? `the fault API answered ${response.status}`;
      throw new FaultApiError(response.status, error?.code, `${message}${detail ? ` (${detail})` : ''}`);
    }
    return parsed;
  }
}
