// The dashboard's sessions (api/dashboard/sessions.ts) under a clock the test
// moves: a sign-in link expires unused after ten minutes, a session after
// twelve hours; a cookie altered in any part is refused; keys are checked
// per account.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DashboardSessions } from '../../src/api/dashboard/sessions.js';

const KEY = Buffer.from('a dashboard session test key of sixty-four bytes, exactly so!!!!');
const OTHER_KEY = Buffer.from('the other account has a key of its own, also sixty-four bytes...');

function sessions(now: { ms: number }): DashboardSessions {
  return new DashboardSessions(
    new Map([
      ['alpha', { name: 'Alpha', keys: [KEY] }],
      ['beta', { name: 'beta', keys: [OTHER_KEY] }],
    ]),
    () => now.ms,
  );
}

const cookieHeaderOf = (setCookie: string) => setCookie.split(';')[0] as string;

test("a key opens a session of its own account only, named as configured; another account's key or none does not", () => {
  const store = sessions({ ms: 0 });
  assert.equal(store.signIn('ALPHA', KEY.toString('base64'))?.account, 'Alpha');
  assert.equal(store.signIn('alpha', OTHER_KEY.toString('base64')), undefined);
  assert.equal(store.signIn('alpha', ''), undefined);
  assert.equal(store.signIn('gamma', KEY.toString('base64')), undefined);
});

test('a sign-in link works once, and not after ten minutes', () => {
  const now = { ms: 1_000 };
  const store = sessions(now);
  const once = store.createSignInLink('alpha') as string;
  assert.equal(store.redeemSignInLink(once)?.account, 'Alpha');
  assert.equal(store.redeemSignInLink(once), undefined);
  const late = store.createSignInLink('alpha') as string;
  now.ms += 10 * 60 * 1000 + 1;
  assert.equal(store.redeemSignInLink(late), undefined);
  assert.equal(store.createSignInLink('gamma'), undefined);
});

test('a cookie names its session until sign-out or twelve hours; an altered one is refused', () => {
  const now = { ms: 0 };
  const store = sessions(now);
  const session = store.signIn('alpha', KEY.toString('base64'));
  assert.ok(session);
  const cookie = cookieHeaderOf(store.cookieFor(session, true));
  assert.match(store.cookieFor(session, true), /HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/);
  assert.equal(store.fromCookieHeader(`other=1; ${cookie}`)?.id, session.id);
  const [name, value] = cookie.split('=') as [string, string];
  const [id, signature] = value.split('.') as [string, string];
  assert.equal(store.fromCookieHeader(`${name}=${id}.${signature.slice(1)}x`), undefined);
  assert.equal(store.fromCookieHeader(`${name}=${id.slice(1)}x.${signature}`), undefined);
  assert.equal(store.fromCookieHeader(`${name}=${id}`), undefined);
  assert.ok(store.csrfMatches(session, session.csrfToken));
  assert.ok(!store.csrfMatches(session, `${session.csrfToken}x`));
  assert.ok(!store.csrfMatches(session, undefined));
  now.ms += 12 * 60 * 60 * 1000;
  assert.equal(store.fromCookieHeader(cookie), undefined);
  const again = store.signIn('alpha', KEY.toString('base64'));
  assert.ok(again);
  store.signOut(again);
  assert.equal(store.fromCookieHeader(cookieHeaderOf(store.cookieFor(again, false))), undefined);
});
