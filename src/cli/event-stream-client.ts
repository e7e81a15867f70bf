// Reads an account's GET /lapis/events (docs/observability.md) through the
// SDK's own pipeline, which signs it; yields each server-sent event as it
// arrives. The events' shape is the documented JSON, read here as data: the
// CLI speaks HTTP only.

import type { BatchServiceClient } from '@azure/batch';
import type { Readable } from 'node:stream';

/** The SDK's own abort signal type (ms-rest-js's AbortSignalLike), which a DOM AbortSignal satisfies but for a `this` typing. */
type SdkAbortSignal = NonNullable<Parameters<BatchServiceClient['sendRequest']>[0]['abortSignal']>;

/** An event as GET /lapis/events sends it: core/events.ts's LapisEvent on the wire (this side speaks HTTP only, so it keeps its own copy). */
export interface StreamedEvent {
  id: number;
  resource: 'pool' | 'node' | 'job' | 'task' | 'fault';
  change: 'added' | 'state' | 'evaluated' | 'retried' | 'requeued' | 'fired' | 'deleted';
  account: string;
  poolId?: string;
  nodeId?: string;
  jobId?: string;
  taskId?: string;
  state?: string;
  previousState?: string;
  detail?: Record<string, string | number | boolean | undefined>;
}

/**
 * Opens the stream (live from now, or after `since`; one job's events with
 * `jobId`), calls `onOpen` once the server has answered (what happens from
 * then on is streamed), then `onEvent` for each event until `signal` aborts
 * or the stream ends.
 */
export async function followEvents(
  batch: BatchServiceClient,
  baseUrl: string,
  onEvent: (event: StreamedEvent) => void,
  signal: AbortSignal,
  options: { since?: number; jobId?: string; onOpen?: () => void } = {},
): Promise<void> {
  const query = new URLSearchParams();
  if (options.since !== undefined) query.set('since', String(options.since));
  if (options.jobId !== undefined) query.set('jobId', options.jobId);
  const response = await batch.sendRequest({
    method: 'GET',
    url: `${baseUrl.replace(/\/$/, '')}/lapis/events${query.size > 0 ? `?${query}` : ''}`,
    streamResponseBody: true,
    // Aborting ends the request itself, socket and all (destroying the body alone would leave the connection open).
    abortSignal: signal as unknown as SdkAbortSignal,
  });
  const body = response.readableStreamBody;
  if (response.status !== 200 || !body) {
    throw new Error(`the event stream answered ${response.status}${response.bodyAsText ? `: ${response.bodyAsText}` : ''}`);
  }
  options.onOpen?.();
  let buffer = '';
  const readable = body as Readable;
  readable.setEncoding('utf8');
  try {
    for await (const chunk of readable) {
      buffer += String(chunk);
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((line) => line.startsWith('data:'));
        const kind = block.split('\n').find((line) => line.startsWith('event:'));
        if (data && kind && !kind.includes('gap')) onEvent(JSON.parse(data.slice(5)) as StreamedEvent);
      }
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}
