// The Batch REST surface on Fastify. The pipeline, in order:
//
//   1. /health and /metrics answer without auth (api/lapis/routes.ts says why);
//   2. SharedKey authentication (on the raw request line, before the body),
//      or a task's bearer token, which allows only its own job's operations;
//      under /ui, the web dashboard's session cookie instead, and nothing
//      else (api/dashboard/mount.ts);
//   3. the api-version check;
//   4. body parsing (1 MiB limit → RequestBodyTooLarge, answered before the
//      connection closes in stages; bad JSON → InvalidRequestBody);
//   5. the operation's handler, which calls a service;
//   6. the reply: request-id, client-request-id, Batch's Content-Type; errors
//      become Batch's envelope in one handler, never a bare 500 for a client's mistake.

import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Conditions } from '../../core/conditions.js';
import { BatchError, batchErrors, isBatchError } from '../../core/errors.js';
import { accountOfBatchHost } from '../../core/azure-hostnames.js';
import { verifySharedKey, type AccountKeys } from './auth/shared-key.js';
import { isBearer, tokenAllows, type TaskTokens } from './auth/task-token.js';
import type { TaskTokenScope } from '../../core/ports.js';
import { errorEnvelope, statusOf } from './errors.js';
import { answerThenCloseInStages } from './oversized-bodies.js';
import { answerClientError, requestTimeoutOptions } from './slow-clients.js';
import type { BatchReply, BatchRequest, Operation } from './operation.js';
import type { OperationRouter } from './operation-router.js';
import { accountOperations } from './routes/account.js';
import { applicationOperations } from './routes/applications.js';
import { certificateOperations } from './routes/certificates.js';
import { jobScheduleOperations } from './routes/job-schedules.js';
import { statisticsOperations } from './routes/statistics.js';
import { fileOperations } from './routes/files.js';
import { jobOperations } from './routes/jobs.js';
import { nodeOperations } from './routes/nodes.js';
import { poolOperations } from './routes/pools.js';
import { taskOperations } from './routes/tasks.js';
import type { BatchServices } from './services.js';
import type { ServerInsight } from '../lapis/insight.js';
import { OPEN_PATHS, registerInsightRoutes } from '../lapis/routes.js';
import type { SpecOperationId } from './spec-operations.js';
import { jsonWithoutRegistrySecrets, withoutRegistrySecrets } from './registry-secrets.js';
import { queryForVersion, replyForVersion, requestBodyForVersion } from './version-gate.js';
import { parseJsonBody } from './wire.js';
import { registerFaultRoutes } from '../lapis/fault-routes.js';
import type { FaultInjection } from '../../core/faults.js';
import { checkApiVersion, isAtLeast } from './versions.js';
import { DASHBOARD_BATCH_PREFIX, gateDashboard, isDashboardRoute, registerDashboard } from '../dashboard/mount.js';
import type { DashboardSessions } from '../dashboard/sessions.js';

export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_PATH_SEGMENT = 1024;
const JSON_CONTENT_TYPE = 'application/json;odata=minimalmetadata';

export interface BatchApiOptions {
  services: BatchServices;
  accounts: Map<string, AccountKeys>;
  /** Verifies task authentication tokens (Authorization: Bearer). */
  taskTokens: TaskTokens;
  logger: Logger;
  now: () => Date;
  isReady: () => boolean;
  https?: { key: Buffer; cert: Buffer };
  /** How long a client has to send a whole request, headers and body (slow-clients.ts). */
  requestTimeoutMs: number;
  /** Events, metrics and the parts of /health?detail=true. */
  insight: ServerInsight;
  /** The failure-injection API's faults (lapis serve --faults); without them /lapis/faults answers 404. */
  faults?: FaultInjection;
  /** The web dashboard's sessions (/ui, api/dashboard/). */
  dashboardSessions: DashboardSessions;
}

declare module 'fastify' {
  interface FastifyRequest {
    batchAccount?: string;
    /** Set when a task's authentication token authenticated the request: the job it may act on. */
    tokenScope?: TaskTokenScope;
  }
  interface FastifyContextConfig {
    /** The Batch operation a route serves, for the request metrics. */
    operationId?: string;
  }
}

/**
 * Operations of the spec (spec-operations.ts) that Lapis has no route for;
 * they answer InvalidUri, and docs/compatibility.md lists them as "not yet".
 * test/unit/spec-operations.test.ts checks that every spec operation is
 * either registered or named here.
 */
export const NOT_IMPLEMENTED: readonly SpecOperationId[] = [];

export function allOperations(services: BatchServices): Operation[] {
  return [
    ...poolOperations(services),
    ...nodeOperations(services),
    ...jobOperations(services),
    ...jobScheduleOperations(services),
    ...statisticsOperations(services),
    ...taskOperations(services),
    ...fileOperations(services),
    ...accountOperations(services),
    ...certificateOperations(services),
    ...applicationOperations(services),
  ];
}

/** Query parameters, each named once: a parameter given twice is ambiguous, so Batch's error names it. */
function singleValuedQuery(raw: unknown): Record<string, string | undefined> {
  const query: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    if (Array.isArray(value)) {
      throw batchErrors.invalidQueryParameterValue(name, value.map(String).join(','), 'The query parameter is given more than once.');
    }
    query[name] = typeof value === 'string' ? value : undefined;
  }
  return query;
}

function baseUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.headers.host ?? request.hostname}`;
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseDateHeader(request: FastifyRequest, name: string): Date | undefined {
  const value = headerOf(request, name);
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw batchErrors.invalidHeaderValue(name, value);
  return parsed;
}

function conditionsOf(request: FastifyRequest): Conditions {
  return {
    ifMatch: headerOf(request, 'if-match'),
    ifNoneMatch: headerOf(request, 'if-none-match'),
    ifModifiedSince: parseDateHeader(request, 'if-modified-since'),
    ifUnmodifiedSince: parseDateHeader(request, 'if-unmodified-since'),
  };
}

function commonHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('request-id', request.id);
  reply.header('DataServiceVersion', '3.0');
  const clientRequestId = headerOf(request, 'client-request-id');
  if (clientRequestId && headerOf(request, 'return-client-request-id')?.toLowerCase() === 'true') {
    reply.header('client-request-id', clientRequestId);
  }
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: BatchError): FastifyReply {
  commonHeaders(request, reply);
  const status = statusOf(error);
  if (status === 304 || request.method === 'HEAD') return reply.code(status).send();
  return sendJson(reply.code(status), errorEnvelope(error, request.id, baseUrlOf(request)));
}

/**
 * Sends JSON with Batch's exact Content-Type. A Buffer, because Fastify
 * rewrites the Content-Type of a string payload (odata="minimalmetadata"; charset=utf-8).
 */
function withoutReplySecrets(reply: BatchReply): BatchReply {
  if (reply.json !== undefined) return { ...reply, json: jsonWithoutRegistrySecrets(reply.json) };
  return reply.body === undefined ? reply : { ...reply, body: withoutRegistrySecrets(reply.body) };
}

function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.header('Content-Type', JSON_CONTENT_TYPE).send(Buffer.from(JSON.stringify(body), 'utf8'));
}

/** Maps what Fastify itself rejects (body too large, bad content) to Batch's codes. */
function toBatchError(error: unknown): BatchError | undefined {
  if (isBatchError(error)) return error;
  const fastifyError = error as { code?: string; statusCode?: number; message?: string };
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return batchErrors.requestBodyTooLarge();
  if (fastifyError.statusCode !== undefined && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return batchErrors.invalidRequestBody(fastifyError.message ?? 'The request could not be read.');
  }
  return undefined;
}

/** 413 with the rest of the body still arriving: answered, then closed in stages (oversized-bodies.ts). */
function refuseOversizedBody(request: FastifyRequest, reply: FastifyReply, error: BatchError): void {
  commonHeaders(request, reply);
  reply.header('Content-Type', JSON_CONTENT_TYPE);
  const status = statusOf(error);
  request.log.info({ requestId: request.id, account: request.batchAccount, method: request.method, url: request.url.split('?')[0], status }, 'request');
  answerThenCloseInStages(request, reply, status, Buffer.from(JSON.stringify(errorEnvelope(error, request.id, baseUrlOf(request))), 'utf8'));
}

/** A JSON-schema compiler factory for a server whose routes carry none: a route that does fails to register, saying why. */
function refuseJsonSchemas(): never {
  throw new Error('Lapis routes carry no JSON schemas: request bodies are checked by api/batch/schemas/validate.ts');
}

export function buildBatchApi(options: BatchApiOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    // One structured line per request comes from the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    // Ids are at most 64 characters; longer path segments still reach the
    // handlers, which answer NotFound as Batch does, instead of a bare 414.
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: MAX_PATH_SEGMENT },
    // A URL the router cannot even decode skips the hooks: authenticate here,
    // then answer in Batch's envelope rather than Fastify's own body.
    frameworkErrors: (_error, request, reply) => {
      if (authenticate(request, reply)) sendError(request, reply, batchErrors.invalidUri());
    },
    exposeHeadRoutes: false,
    // Routes carry no JSON schemas (bodies are checked by schemas/validate.ts): compilers of Lapis's own keep
    // Fastify from loading Ajv and fast-json-stringify for none, some 0.15 s of every start (bench/README.md).
    schemaController: { compilersFactory: { buildValidator: refuseJsonSchemas, buildSerializer: refuseJsonSchemas } },
    bodyLimit: MAX_BODY_BYTES,
    requestTimeout: options.requestTimeoutMs,
    // Stopping closes every connection, not only idle ones: a client stalled mid-body would otherwise hold close() for the whole request timeout.
    forceCloseConnections: true,
    ...(options.https ? { https: { ...options.https, ...requestTimeoutOptions(options.requestTimeoutMs) } } : { http: requestTimeoutOptions(options.requestTimeoutMs) }),
    clientErrorHandler: (error, socket) => answerClientError(error, socket, options.logger),
  }) as unknown as FastifyInstance;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.get('/health', async (request, reply) => {
    if (!options.isReady()) return reply.code(503).send({ status: 'starting' });
    if ((request.query as Record<string, unknown>).detail !== 'true') return reply.send({ status: 'ok' });
    const detail = await options.insight.health();
    return reply.code(detail.status === 'ok' ? 200 : 503).send(detail);
  });
  registerInsightRoutes(app, options.insight);
  registerFaultRoutes(app, options.faults);
  registerDashboard(app, { sessions: options.dashboardSessions, jobs: options.services.jobs, insight: options.insight, faults: options.faults, secure: options.https !== undefined });

  /**
   * A request to `<account>.<region>.batch.azure.com` (--azure-hostnames) is for that account, as in Azure, where
   * the host picks the account whose key must sign: another account's signature answers AuthenticationFailed.
   */
  function hostNamesAccount(request: FastifyRequest, reply: FastifyReply, account: string): boolean {
    const named = accountOfBatchHost(headerOf(request, 'host'));
    if (named === undefined || named === account.toLowerCase()) return true;
    request.log.warn({ requestId: request.id, method: request.method, url: request.url, account, reason: 'host names another account' }, 'authentication failed');
    sendError(request, reply, batchErrors.authenticationFailed(`The request is signed for account ${account}, but its host names account ${named}.`));
    return false;
  }

  /** Sets request.batchAccount, or answers AuthenticationFailed and returns false. */
  function authenticate(request: FastifyRequest, reply: FastifyReply): boolean {
    const authorization = headerOf(request, 'authorization');
    if (isBearer(authorization)) {
      const verified = options.taskTokens.verify(authorization as string, options.now());
      if (verified.ok && !options.services.jobs.isCurrentJob(verified.scope.account, verified.scope.jobId, verified.scope.jobCreationTime)) {
        request.log.warn({ requestId: request.id, method: request.method, url: request.url }, 'authentication failed');
        sendError(request, reply, batchErrors.authenticationFailed(`The authentication token was issued for a job ${verified.scope.jobId} that has since been deleted.`));
        return false;
      }
      if (verified.ok && !hostNamesAccount(request, reply, verified.scope.account)) return false;
      if (verified.ok) {
        request.batchAccount = verified.scope.account;
        request.tokenScope = verified.scope;
        return true;
      }
      request.log.warn({ requestId: request.id, method: request.method, url: request.url }, 'authentication failed');
      sendError(request, reply, batchErrors.authenticationFailed(verified.detail));
      return false;
    }
    const result = verifySharedKey(
      {
        method: request.method,
        rawUrl: request.raw.url ?? request.url,
        header: (name) => headerOf(request, name),
        headerNames: () => Object.keys(request.headers),
      },
      options.accounts,
      options.now(),
    );
    if (result.ok) {
      if (!hostNamesAccount(request, reply, result.account)) return false;
      request.batchAccount = result.account;
      return true;
    }
    // Whether the account is unknown or the signature wrong goes to the log only: the answer is the same for both.
    request.log.warn({ requestId: request.id, method: request.method, url: request.url, account: result.account, reason: result.reason }, 'authentication failed');
    sendError(request, reply, batchErrors.authenticationFailed(result.detail));
    return false;
  }

  app.addHook('onRequest', async (request, reply) => {
    // Judged by the matched route, so only GET /health and /metrics (in any case or with a trailing slash) are open.
    if (OPEN_PATHS.includes(request.routeOptions.url ?? '')) return;
    // The dashboard signs in with its session cookie only (api/dashboard/mount.ts).
    if (isDashboardRoute(request.routeOptions.url)) return gateDashboard(options.dashboardSessions, request, reply) ? undefined : reply;
    if (!authenticate(request, reply)) return reply;
  });

  app.addHook('onResponse', async (request, reply) => {
    const url = request.routeOptions.url ?? '';
    if (!OPEN_PATHS.includes(url)) options.insight.requestServed(request.routeOptions.config?.operationId ?? 'Unmatched', reply.statusCode, reply.elapsedTime / 1000);
    request.log.info(
      { requestId: request.id, account: request.batchAccount, method: request.method, url: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });

  /** Answers one operation; `params` are the path parameters its route matched. */
  async function answer(operation: Operation, request: FastifyRequest, reply: FastifyReply, params: Record<string, string>): Promise<FastifyReply> {
    const query = singleValuedQuery(request.query);
    const apiVersion = checkApiVersion(query['api-version']);
    if (operation.since && !isAtLeast(apiVersion, operation.since)) throw batchErrors.invalidUri();
    if (operation.until && isAtLeast(apiVersion, operation.until)) throw batchErrors.invalidUri();
    if (request.tokenScope && !tokenAllows(request.tokenScope, operation.path, params)) {
      throw batchErrors.insufficientAccountPermissions(`The task authentication token grants access to job ${request.tokenScope.jobId} only.`);
    }
    const batchRequest: BatchRequest = {
      caller: { account: request.batchAccount as string },
      apiVersion,
      baseUrl: baseUrlOf(request),
      requestId: request.id,
      params,
      query: queryForVersion(operation.id, apiVersion, query),
      header: (name) => headerOf(request, name),
      conditions: conditionsOf(request),
      body: requestBodyForVersion(operation.id, apiVersion, parseJsonBody(request.body)),
      path: (request.raw.url ?? request.url).split('?')[0] as string,
    };
    const result: BatchReply = withoutReplySecrets(replyForVersion(operation.id, apiVersion, await operation.handler(batchRequest)));
    commonHeaders(request, reply);
    reply.code(result.status);
    for (const [name, value] of Object.entries(result.headers ?? {})) reply.header(name, value);
    if (result.stream) {
      if (request.method === 'HEAD') return reply.send();
      return reply.send(Readable.from(result.stream));
    }
    if (result.json !== undefined) return reply.header('Content-Type', JSON_CONTENT_TYPE).send(Buffer.from(result.json, 'utf8'));
    if (result.body === undefined) return reply.send();
    return sendJson(reply, result.body);
  }

  const operations = allOperations(options.services);
  for (const operation of operations) {
    app.route({
      method: operation.method,
      url: operation.path,
      config: { operationId: operation.id },
      handler: (request, reply) => answer(operation, request, reply, request.params as Record<string, string>),
    });
  }

  /**
   * The same operations under /ui/api/batch for the dashboard's session
   * (api/dashboard/mount.ts gated the request): one route whose router of
   * the operations is built on the first dashboard request, so a start
   * registers no second copy of every route.
   */
  let dashboardOperations: Promise<OperationRouter> | undefined;
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: `${DASHBOARD_BATCH_PREFIX}/*`,
    config: { operationId: 'Lapis_Dashboard' },
    handler: async (request, reply) => {
      dashboardOperations ??= import('./operation-router.js').then((module) => module.operationRouter(operations, MAX_PATH_SEGMENT));
      const path = (request.raw.url ?? request.url).split('?')[0]?.slice(DASHBOARD_BATCH_PREFIX.length) ?? '';
      const found = (await dashboardOperations).find(request.method, path);
      if (!found) throw batchErrors.invalidUri();
      return answer(found.operation, request, reply, found.params);
    },
  });

  app.setNotFoundHandler((request, reply) => {
    sendError(request, reply, batchErrors.invalidUri());
  });

  app.setErrorHandler((error, request, reply) => {
    const batchError = toBatchError(error);
    if (batchError?.kind === 'tooLarge') return refuseOversizedBody(request, reply, batchError);
    if (batchError) return sendError(request, reply, batchError);
    request.log.error({ err: error, requestId: request.id }, 'unexpected error');
    return sendError(request, reply, batchErrors.internal());
  });

  return app;
}
