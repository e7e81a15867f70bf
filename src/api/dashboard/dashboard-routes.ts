// The dashboard's own requests (mount.ts lists them), loaded on the first /ui
// request. By the time a handler runs, mount.ts's gate has checked the
// session (and for a change, its CSRF token); the account is always the
// session's, never one a request names.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { batchErrors } from '../../core/errors.js';
import { FAULT_TYPES, parseFaultSpec } from '../../core/faults.js';
import { parseJsonBody } from '../batch/wire.js';
import { streamEvents } from '../lapis/routes.js';
import { DashboardAssets } from './assets.js';
import type { DashboardOptions } from './dashboard-options.js';
import type { DashboardSession } from './sessions.js';

/** The page loads only its own script and style sheet and talks only to its own origin. */
const PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function sessionOf(request: FastifyRequest): DashboardSession {
  // mount.ts's gate lets no request without a session reach a handler that calls this.
  const session = request.dashboardSession;
  if (!session) throw new Error('a dashboard handler that needs a session ran without one');
  return session;
}

function sessionInfo(session: DashboardSession, faultsOn: boolean) {
  return { account: session.account, csrfToken: session.csrfToken, faults: faultsOn };
}

function page(reply: FastifyReply, status: number, title: string, text: string, refresh?: string): FastifyReply {
  const escape = (value: string) => value.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const meta = refresh ? `<meta http-equiv="refresh" content="0;url=${escape(refresh)}">` : '';
  return reply
    .code(status)
    .header('Content-Type', 'text/html; charset=utf-8')
    .header('Content-Security-Policy', PAGE_POLICY)
    .send(`<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">${meta}<title>${escape(title)}</title></head><body><p>${escape(text)}</p><p><a href="/ui">Open the dashboard</a></p></body></html>`);
}

export function dashboardHandler(options: DashboardOptions) {
  const assets = new DashboardAssets();
  const { sessions, faults } = options;

  async function sendAsset(reply: FastifyReply, name: string): Promise<FastifyReply> {
    const asset = assets.get(name);
    if (!asset) return reply.code(404).send({ code: 'NotFound', message: `The dashboard has no ${name}.` });
    const { body, contentType } = await asset;
    if (name === 'index.html') reply.header('Content-Security-Policy', PAGE_POLICY);
    return reply.header('Content-Type', contentType).send(body);
  }

  return async function handle(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const path = (request.raw.url ?? request.url).split('?')[0]?.replace(/\/+$/, '') ?? '';
    const route = `${request.method} ${path.toLowerCase()}`;
    const query = request.query as Record<string, unknown>;
    switch (route) {
      case 'GET /ui':
        return sendAsset(reply, 'index.html');
      case 'GET /ui/sign-in-link': {
        const session = typeof query.token === 'string' ? sessions.redeemSignInLink(query.token) : undefined;
        if (!session) return page(reply, 401, 'Sign-in link spent', 'This sign-in link has been used or has expired. Sign in with the account name and key instead.');
        reply.header('Set-Cookie', sessions.cookieFor(session, options.secure));
        return page(reply, 200, 'Signed in', `Signed in to account ${session.account}.`, '/ui');
      }
      case 'POST /ui/api/sign-in': {
        // JSON only: a cross-site HTML form cannot send it without a CORS preflight, which is never answered.
        if (!String(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
          throw batchErrors.invalidHeaderValue('Content-Type', String(request.headers['content-type'] ?? ''));
        }
        const body = parseJsonBody(request.body) as { account?: unknown; key?: unknown } | undefined;
        const account = typeof body?.account === 'string' ? body.account : '';
        const key = typeof body?.key === 'string' ? body.key : '';
        const session = sessions.signIn(account, key);
        if (!session) {
          request.log.warn({ requestId: request.id, account }, 'dashboard sign-in refused');
          return reply.code(401).send({ code: 'AuthenticationFailed', message: 'The account name or key is not right.' });
        }
        return reply.header('Set-Cookie', sessions.cookieFor(session, options.secure)).send(sessionInfo(session, faults !== undefined));
      }
      case 'GET /ui/api/session': {
        const session = request.dashboardSession;
        if (!session) return reply.code(401).send({ code: 'SignInRequired', message: 'Sign in to the dashboard first.' });
        return reply.send(sessionInfo(session, faults !== undefined));
      }
      case 'POST /ui/api/sign-out':
        sessions.signOut(sessionOf(request));
        return reply.header('Set-Cookie', sessions.clearingCookie(options.secure)).code(204).send();
      case 'GET /ui/api/summary':
        // The overview's counts over every job of the account, which the Batch API answers only job by job.
        return reply.send(options.jobs.accountSummary(sessionOf(request)));
      case 'GET /ui/api/events':
        sessionOf(request);
        return streamEvents(options.insight, request, reply);
      case 'GET /ui/api/faults': {
        const { account } = sessionOf(request);
        // The kinds come from core's list, so a kind added there gets its button with no change here.
        return reply.send({ enabled: faults !== undefined, kinds: FAULT_TYPES, value: faults?.list(account) ?? [] });
      }
      case 'POST /ui/api/faults': {
        const { account } = sessionOf(request);
        if (!faults) throw batchErrors.faultInjectionOff();
        return reply.code(201).send(faults.add(account, parseFaultSpec(parseJsonBody(request.body))));
      }
    }
    const asset = /^\/ui\/assets\/([a-z.]+)$/i.exec(path);
    if (request.method === 'GET' && asset?.[1]) return sendAsset(reply, asset[1]);
    const fault = /^\/ui\/api\/faults\/([^/]+)$/i.exec(path);
    if (request.method === 'DELETE' && fault?.[1]) {
      const { account } = sessionOf(request);
      if (!faults) throw batchErrors.faultInjectionOff();
      faults.remove(account, decodeURIComponent(fault[1]));
      return reply.code(200).send({});
    }
    return reply.code(404).send({ code: 'NotFound', message: `The dashboard has no ${request.method} ${path}.` });
  };
}
