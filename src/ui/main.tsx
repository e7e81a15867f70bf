// The Lapis dashboard (docs/dashboard.md): a Preact page served at /ui.
// Routes live in the URL's hash (#/jobs/j1), so the server serves one page
// and a reload keeps the view.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, dashboardGet, dashboardSend, onSignedOut, rememberSession, type Session } from './api';
import { messageOf } from './components';
import { connectEvents, disconnectEvents, useConnected } from './live';
import { JobDetail, JobList } from './views/jobs';
import { NodeDetail } from './views/node';
import { Overview } from './views/overview';
import { PoolDetail, PoolList } from './views/pools';
import { TaskDetail } from './views/task';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return hash;
}

function View({ hash }: { hash: string }) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [first, id, sub, subId] = parts;
  if (first === 'pools' && id && sub === 'nodes' && subId) return <NodeDetail key={hash} poolId={id} nodeId={subId} />;
  if (first === 'pools' && id) return <PoolDetail key={hash} poolId={id} />;
  if (first === 'pools') return <PoolList />;
  if (first === 'jobs' && id && sub === 'tasks' && subId) return <TaskDetail key={hash} jobId={id} taskId={subId} />;
  if (first === 'jobs' && id) return <JobDetail key={hash} jobId={id} />;
  if (first === 'jobs') return <JobList />;
  return <Overview />;
}

function SignIn({ signedIn }: { signedIn: (session: Session) => void }) {
  const [account, setAccount] = useState('');
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      signedIn(await dashboardSend<Session>('POST', '/sign-in', { account, key }));
    } catch (failure) {
      setError(failure instanceof ApiError && failure.status === 401 ? 'The account name or key is not right.' : messageOf(failure));
    }
  };
  return (
    <form class="sign-in" onSubmit={submit} id="sign-in">
      <h1>Lapis</h1>
      <label>
        Account name <input name="account" autoComplete="username" value={account} onInput={(event) => setAccount((event.target as HTMLInputElement).value)} />
      </label>
      <label>
        Account key <input name="key" type="password" autoComplete="current-password" value={key} onInput={(event) => setKey((event.target as HTMLInputElement).value)} />
      </label>
      <button type="submit">Sign in</button>
      {error ? <p class="error" role="alert">{error}</p> : null}
    </form>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>();
  const hash = useHash();
  const connected = useConnected();
  useEffect(() => {
    dashboardGet<Session>('/session').then(setSession, () => setSession(null));
    return onSignedOut(() => setSession(null));
  }, []);
  useEffect(() => {
    rememberSession(session ?? undefined);
    if (session) connectEvents();
    else disconnectEvents();
  }, [session]);
  if (session === undefined) return <p class="muted">Loading…</p>;
  if (session === null) return <SignIn signedIn={setSession} />;
  const signOut = async () => {
    await dashboardSend('POST', '/sign-out').catch(() => undefined);
    setSession(null);
  };
  return (
    <>
      <header>
        <strong>Lapis</strong>
        <nav>
          <a href="#/">Overview</a>
          <a href="#/pools">Pools</a>
          <a href="#/jobs">Jobs</a>
        </nav>
        <span class={connected ? 'live-on' : 'live-off'} title="live updates">{connected ? '● live' : '○ offline'}</span>
        <span id="account">{session.account}</span>
        <button type="button" onClick={signOut} id="sign-out">Sign out</button>
      </header>
      <main>
        <View hash={hash} />
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
