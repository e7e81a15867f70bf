// The web dashboard's place in the Batch endpoint (docs/dashboard.md): every
// path under /ui, on the same origin and TLS as the API.
//
//   /ui, /ui/assets/*           the page and its bundle (open: they hold no data)
//   /ui/sign-in-link?token=     a one-time sign-in link (open: the token is the credential)
//   /ui/api/sign-in             POST {account, key} (open: the key is the credential)
//   /ui/api/session             GET: who is signed in, or 401
//   /ui/api/batch/<Batch path>  the Batch REST operations themselves (app.ts answers
//                               them here), for the session's account
//   /ui/api/events              server-sent events of the session's account
//   /ui/api/summary             GET: the account's jobs and tasks by state
//   /ui/api/faults…             fault injection, when the server runs with --faults
//   /ui/api/sign-out            POST
//
// Only the session cookie signs a /ui request in (a SharedKey header is
// ignored there), and every request that changes something must also carry
// the session's CSRF token header. The gate below runs in app.ts's onRequest
// hook; the handlers themselves are loaded on the first /ui request, so a
// server nobody opens the dashboard of never loads them.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardOptions } from './dashboard-options.js';
import { CSRF_HEADER, type DashboardSession, type DashboardSessions } from './sessions.js';

export const DASHBOARD_PREFIX = '/ui';
export const DASHBOARD_BATCH_PREFIX = '/ui/api/batch';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on /ui requests that carry an open session. */
    dashboardSession?: DashboardSession;
  }
}

/** Whether a matched route belongs to the dashboard (its requests are gated by gateDashboard, not SharedKey). */
export function isDashboardRoute(routeUrl: string | undefined): boolean {
  return routeUrl !== undefined && (routeUrl === DASHBOARD_PREFIX || routeUrl.toLowerCase().startsWith(`${DASHBOARD_PREFIX}/`));
}

function isOpen(method: string, path: string): boolean {
  if (method === 'GET' && (path === '/ui' || path === '/ui/' || path.startsWith('/ui/assets/') || path === '/ui/sign-in-link' || path === '/ui/api/session')) return true;
  return method === 'POST' && path === '/ui/api/sign-in';
}

function refuse(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).header('Cache-Control', 'no-store').send({ code, message });
}

/**
 * Lets a /ui request through, with request.batchAccount set to its session's
 * account when it has one; or answers 401 (no session) or 403 (a change
 * without the session's CSRF token, or from another origin) and returns false.
 */
export function gateDashboard(sessions: DashboardSessions, request: FastifyRequest, reply: FastifyReply): boolean {
  reply.headers({ 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY', 'Cache-Control': 'no-store' });
  const session = sessions.fromCookieHeader(request.headers.cookie);
  if (session) {
    request.dashboardSession = session;
    request.batchAccount = session.account;
  }
  const path = (request.raw.url ?? request.url).split('?')[0]?.toLowerCase().replace(/\/+$/, '') ?? '';
  const method = request.method;
  const changes = method !== 'GET' && method !== 'HEAD';
  const origin = request.headers.origin;
  if (changes && origin !== undefined && origin !== `${request.protocol}://${request.headers.host ?? ''}`) {
    refuse(reply, 403, 'CrossOriginRequest', 'Dashboard requests must come from the dashboard itself.');
    return false;
  }
  if (isOpen(method, path)) return true;
  if (!session) {
    refuse(reply, 401, 'SignInRequired', 'Sign in to the dashboard first.');
    return false;
  }
  const csrf = request.headers[CSRF_HEADER];
  if (changes && !sessions.csrfMatches(session, typeof csrf === 'string' ? csrf : undefined)) {
    refuse(reply, 403, 'CsrfTokenMissing', `A dashboard action must carry the session's ${CSRF_HEADER} header.`);
    return false;
  }
  return true;
}

/** The /ui routes other than the Batch operations (app.ts registers those): handled by dashboard-routes.ts, loaded on first use. */
export function registerDashboard(app: FastifyInstance, options: DashboardOptions): void {
  let handler: Promise<(request: FastifyRequest, reply: FastifyReply) => Promise<unknown>> | undefined;
  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    handler ??= import('./dashboard-routes.js').then((module) => module.dashboardHandler(options));
    return (await handler)(request, reply);
  };
  app.route({ method: ['GET', 'POST', 'DELETE'], url: DASHBOARD_PREFIX, handler: handle });
  app.route({ method: ['GET', 'POST', 'DELETE'], url: `${DASHBOARD_PREFIX}/*`, handler: handle });
}
