// Lapis's own endpoints beside the Batch API (docs/observability.md):
//
//   GET /lapis/events   server-sent events of the caller's account, SharedKey
//                       signed like any Batch request; `?since=ID` (or the
//                       Last-Event-ID header a reconnecting EventSource sends)
//                       replays the events kept after that id first; without
//                       it the stream starts with what happens next;
//                       `?jobId=` keeps one job's events and its tasks'.
//   GET /metrics        Prometheus text, open like /health (see the doc for why).
//
// /health?detail=true is answered beside /health in app.ts.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LapisEvent } from '../../core/events.js';
import { batchErrors } from '../../core/errors.js';
import type { ServerInsight } from './insight.js';

/** A client this far behind (bytes not yet sent) is dropped; it resumes from its last id when it reconnects. */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;
/** A comment line this often keeps proxies and idle timeouts from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

export const OPEN_PATHS: readonly string[] = ['/health', '/metrics'];

function sinceOf(request: FastifyRequest): number | undefined {
  const query = request.query as Record<string, unknown>;
  const given = typeof query.since === 'string' ? { name: 'since', value: query.since } : undefined;
  const header = request.headers['last-event-id'];
  const resume = given ?? (typeof header === 'string' ? { name: 'Last-Event-ID', value: header } : undefined);
  if (!resume) return undefined;
  const since = Number(resume.value);
  if (!/^\d+$/.test(resume.value) || !Number.isSafeInteger(since)) {
    throw given
      ? batchErrors.invalidQueryParameterValue(resume.name, resume.value, 'The value must be an event id: a whole number, 0 for every event kept.')
      : batchErrors.invalidHeaderValue(resume.name, resume.value);
  }
  return since;
}

function frame(event: LapisEvent): string {
  return `id: ${event.id}\nevent: ${event.resource}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** `?jobId=` keeps the events of one job and its tasks (a watcher of one job in a busy account). */
function filterOf(request: FastifyRequest): (event: LapisEvent) => boolean {
  const jobId = (request.query as Record<string, unknown>).jobId;
  if (typeof jobId !== 'string') return () => true;
  const wanted = jobId.toLowerCase();
  return (event) => event.jobId?.toLowerCase() === wanted;
}

/** Streams the events of request.batchAccount (signed in by SharedKey here, by its session on the dashboard's /ui/api/events). */
export function streamEvents(insight: ServerInsight, request: FastifyRequest, reply: FastifyReply): void {
  const account = request.batchAccount as string;
  const since = sinceOf(request);
  const wanted = filterOf(request);
  reply.hijack();
  const out = reply.raw;
  out.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
    'request-id': request.id,
    'X-Accel-Buffering': 'no',
  });
  // Ids only increase: an event at or below the last one sent was sent already (by the replay, or before).
  let last = since ?? 0;
  let open = true;
  const send = (event: LapisEvent) => {
    if (!open || event.id <= last || !wanted(event)) return;
    last = event.id;
    out.write(frame(event));
    if (out.writableLength > MAX_UNSENT_BYTES) close();
  };
  // Subscribed before the replay, in the same turn: no event falls between them.
  const subscription = insight.events.subscribe(account, send);
  const keepAlive = setInterval(() => out.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  keepAlive.unref();
  function close(): void {
    if (!open) return;
    open = false;
    subscription.close();
    clearInterval(keepAlive);
    out.end();
  }
  request.raw.once('close', close);
  out.once('close', close);
  out.write(': lapis events\n\n');
  if (since === undefined) return;
  // An id this server never gave was given before a restart (ids start again at 1): everything kept is news.
  const restarted = since > insight.events.latestId();
  const from = restarted ? 0 : since;
  const oldest = insight.events.oldestId(account);
  if (restarted || (oldest !== undefined && oldest > since + 1)) {
    out.write(`event: gap\ndata: ${JSON.stringify({ since, oldestKept: oldest ?? null, serverRestarted: restarted })}\n\n`);
  }
  last = from;
  for (const event of insight.events.recent(account, from)) send(event);
}

export function registerInsightRoutes(app: FastifyInstance, insight: ServerInsight): void {
  app.get('/lapis/events', { config: { operationId: 'Lapis_Events' } }, async (request, reply) => streamEvents(insight, request, reply));
  app.get('/metrics', async (_request, reply) => {
    const { contentType, text } = await insight.metrics();
    return reply.header('Content-Type', contentType).send(text);
  });
}
