// Authentication tokens for tasks. A task added with
// authenticationTokenSettings { access: ['job'] } finds one in
// AZ_BATCH_AUTHENTICATION_TOKEN and sends it as `Authorization: Bearer
// <token>` (as Batch's token credentials do) to call the Batch API for the
// job that contains it, and nothing else.
//
// A token is `<payload>.<signature>`, both base64url: the payload names the
// account, the job (its id and its creation time: a job deleted and added
// again with the same id is another job) and the expiry; the signature is HMAC-SHA256 under a key
// derived from the account key, so a token survives a server restart and
// dies with its account key. Lapis accepts no other bearer tokens (no
// Microsoft Entra ID). Tokens are secrets: never log them.
//
// verify() checks the signature and the expiry; the caller (api/batch/app.ts)
// then asks JobService.isCurrentJob whether the job of that id still has that
// creation time, and answers AuthenticationFailed when it does not.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { idKey } from '../../../core/ids.js';
import type { TaskTokenIssuer, TaskTokenScope } from '../../../core/ports.js';
import type { AccountKeys } from './shared-key.js';

export type TaskTokenResult = { ok: true; scope: TaskTokenScope } | { ok: false; detail: string };

interface Payload {
  /** Account name. */
  a: string;
  /** Job id. */
  j: string;
  /** The job's creationTime. */
  c: string;
  /** Expiry, epoch seconds. */
  e: number;
}

const BEARER = /^Bearer\s+(\S+)$/i;

export function isBearer(authorization: string | undefined): boolean {
  return authorization !== undefined && BEARER.test(authorization.trim());
}

export class TaskTokens implements TaskTokenIssuer {
  constructor(private readonly accounts: Map<string, AccountKeys>) {}

  issue(scope: TaskTokenScope, expiresAt: Date): string {
    const key = this.accounts.get(scope.account.toLowerCase())?.keys[0];
    if (!key) throw new Error(`No key for account ${scope.account}`);
    const payload: Payload = { a: scope.account, j: scope.jobId, c: scope.jobCreationTime, e: Math.floor(expiresAt.getTime() / 1000) };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${signature(key, body).toString('base64url')}`;
  }

  verify(authorization: string, now: Date): TaskTokenResult {
    const token = BEARER.exec(authorization.trim())?.[1] ?? '';
    const [body = '', signed = '', ...rest] = token.split('.');
    const payload = rest.length === 0 ? parsePayload(body) : undefined;
    if (!payload) return { ok: false, detail: 'The bearer token is not a Lapis task authentication token.' };
    const account = this.accounts.get(payload.a.toLowerCase());
    const given = Buffer.from(signed, 'base64url');
    const matches = (account?.keys ?? []).some((key) => {
      const expected = signature(key, body);
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
    if (!account || !matches) return { ok: false, detail: 'The authentication token\'s signature is not valid.' };
    if (payload.e * 1000 <= now.getTime()) return { ok: false, detail: 'The authentication token has expired.' };
    return { ok: true, scope: { account: account.name, jobId: payload.j, jobCreationTime: payload.c } };
  }
}

/** A job-scoped token allows the operations on its job and what is under it (tasks, their files, counts, statuses). */
export function tokenAllows(scope: TaskTokenScope, operationPath: string, params: Record<string, string>): boolean {
  if (!operationPath.toLowerCase().startsWith('/jobs/:jobid')) return false;
  return params.jobId !== undefined && idKey(params.jobId) === idKey(scope.jobId);
}

function signature(accountKey: Buffer, body: string): Buffer {
  const tokenKey = createHmac('sha256', accountKey).update('lapis-task-authentication-token').digest();
  return createHmac('sha256', tokenKey).update(body).digest();
}

function parsePayload(body: string): Payload | undefined {
  try {
    const value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<Payload>;
    // A token without the job's creation time (issued before tokens carried it) is not accepted.
    if (typeof value.a === 'string' && typeof value.j === 'string' && typeof value.c === 'string' && typeof value.e === 'number') return value as Payload;
  } catch {
    // Not JSON: not a token of ours.
  }
  return undefined;
}
