// Dashboard sessions (docs/dashboard.md, "Security model"): who may use /ui.
//
// - Sign-in takes an account name and key, checked in constant time against
//   the configured accounts as SharedKey checks a signature: the key's digest
//   is compared with every key's digest of the account (timingSafeEqual over
//   equal lengths), and an unknown account costs the same work against a
//   dummy key, so neither the timing nor the answer tells which part was wrong.
// - A session is kept in memory, scoped to one account, and named by a random
//   id; the cookie carries the id and an HMAC of it under a key of this
//   process, so a forged or altered cookie is refused before any lookup. The
//   sessions end with the process (a restart signs everyone out) and after
//   SESSION_TTL_MS; sign-out ends one at once.
// - Each session has its own CSRF token, which every state-changing request
//   sends back in a header (a cross-site page can neither read it nor set the
//   header without a CORS preflight, which Lapis never answers), on top of the
//   SameSite=Strict cookie.
// - A sign-in link (what `lapis serve` prints for the development account)
//   holds a random token that works once, within SIGN_IN_LINK_TTL_MS.
//
// Loaded with the server (the onRequest hook needs it): it uses node:crypto only.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AccountKeys } from '../batch/auth/shared-key.js';

export const SESSION_COOKIE = 'lapis_session';
export const CSRF_HEADER = 'x-lapis-csrf';
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const SIGN_IN_LINK_TTL_MS = 10 * 60 * 1000;
const UNKNOWN_ACCOUNT_KEY = randomBytes(64);

export interface DashboardSession {
  id: string;
  /** The account's name as configured: every read and action of the session is this account's. */
  account: string;
  csrfToken: string;
  expiresAt: number;
}

const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest();
const sameText = (a: string, b: string) => timingSafeEqual(digest(Buffer.from(a)), digest(Buffer.from(b)));
const token = () => randomBytes(32).toString('base64url');

export class DashboardSessions {
  private readonly sessions = new Map<string, DashboardSession>();
  private readonly links = new Map<string, { account: string; expiresAt: number }>();
  private readonly cookieKey = randomBytes(32);

  constructor(
    private readonly accounts: Map<string, AccountKeys>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new session when the key is one of the account's, else undefined (the same for an unknown account). */
  signIn(accountName: string, key: string): DashboardSession | undefined {
    const account = this.accounts.get(accountName.toLowerCase());
    const given = digest(Buffer.from(key, 'base64'));
    let matched = false;
    for (const stored of account?.keys ?? [UNKNOWN_ACCOUNT_KEY]) {
      if (timingSafeEqual(digest(stored), given)) matched = true;
    }
    // A key that is not base64 decodes to other bytes and so fails above; an empty one is no key.
    return account && matched && key.length > 0 ? this.open(account.name) : undefined;
  }

  /** A token for a one-time sign-in link to the account, or undefined for an account that is not configured. */
  createSignInLink(accountName: string): string | undefined {
    const account = this.accounts.get(accountName.toLowerCase());
    if (!account) return undefined;
    this.forgetExpired();
    const value = token();
    this.links.set(value, { account: account.name, expiresAt: this.now() + SIGN_IN_LINK_TTL_MS });
    return value;
  }

  /** Spends a sign-in link's token: a session the first time within its lifetime, undefined ever after. */
  redeemSignInLink(value: string): DashboardSession | undefined {
    const link = this.links.get(value);
    if (!link) return undefined;
    this.links.delete(value);
    return link.expiresAt > this.now() ? this.open(link.account) : undefined;
  }

  /** The session a Cookie header names, if it is signed by this process and still open. */
  fromCookieHeader(header: string | undefined): DashboardSession | undefined {
    const value = cookieValue(header, SESSION_COOKIE);
    if (!value) return undefined;
    const dot = value.indexOf('.');
    if (dot < 0) return undefined;
    const id = value.slice(0, dot);
    if (!sameText(value.slice(dot + 1), this.signature(id))) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /** Whether a request's CSRF header is the session's token. */
  csrfMatches(session: DashboardSession, header: string | undefined): boolean {
    return header !== undefined && sameText(header, session.csrfToken);
  }

  signOut(session: DashboardSession): void {
    this.sessions.delete(session.id);
  }

  /** The Set-Cookie value that carries a session: HttpOnly, SameSite=Strict, for /ui only, Secure over HTTPS. */
  cookieFor(session: DashboardSession, secure: boolean): string {
    const maxAge = Math.max(0, Math.floor((session.expiresAt - this.now()) / 1000));
    return `${SESSION_COOKIE}=${session.id}.${this.signature(session.id)}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
  }

  clearingCookie(secure: boolean): string {
    return `${SESSION_COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
  }

  private open(account: string): DashboardSession {
    this.forgetExpired();
    const session: DashboardSession = { id: token(), account, csrfToken: token(), expiresAt: this.now() + SESSION_TTL_MS };
    this.sessions.set(session.id, session);
    return session;
  }

  private signature(id: string): string {
    return createHmac('sha256', this.cookieKey).update(id).digest('base64url');
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
    for (const [value, link] of this.links) if (link.expiresAt <= now) this.links.delete(value);
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
