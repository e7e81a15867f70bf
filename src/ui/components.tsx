// Small parts every view uses: loading data, state badges, count bars, actions.

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';

export interface Loaded<T> {
  data?: T;
  error?: string;
}

/** Runs `load` now and again whenever a dependency (e.g. a live version) changes; keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({});
  useEffect(() => {
    let current = true;
    load().then(
      (data) => current && setState({ data }),
      (error: unknown) => current && setState((previous) => ({ ...previous, error: messageOf(error) })),
    );
    return () => {
      current = false;
    };
  }, deps);
  return state;
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export function Failure({ message }: { message?: string }) {
  return message ? <p class="error" role="alert">{message}</p> : null;
}

export function Loading<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (loaded.data === undefined) return loaded.error ? <Failure message={loaded.error} /> : <p class="muted">Loading…</p>;
  return (
    <>
      <Failure message={loaded.error} />
      {children(loaded.data)}
    </>
  );
}

export function State({ value }: { value?: string }) {
  return <span class={`state state-${value ?? 'unknown'}`}>{value ?? '—'}</span>;
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section id={id}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/** Counts by name as a list of labelled numbers. */
export function Counts({ counts, label }: { counts: Record<string, number>; label: string }) {
  const entries = Object.entries(counts).filter(([, value]) => value > 0);
  return (
    <dl class="counts" aria-label={label}>
      {entries.length === 0 ? <span class="muted">none</span> : null}
      {entries.map(([name, value]) => (
        <div key={name} class={`count state-${name}`} data-state={name}>
          <dt>{name}</dt>
          <dd>{value.toLocaleString('en-US')}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A horizontal bar of parts proportional to their counts. */
export function ProgressBar({ parts, label }: { parts: { name: string; value: number }[]; label: string }) {
  const total = parts.reduce((sum, part) => sum + part.value, 0);
  return (
    <div class="progress" role="img" aria-label={`${label}: ${parts.map((part) => `${part.value} ${part.name}`).join(', ')}`}>
      {parts
        .filter((part) => part.value > 0)
        .map((part) => (
          <div key={part.name} class={`bar state-${part.name}`} style={{ width: `${(100 * part.value) / Math.max(total, 1)}%` }} title={`${part.value} ${part.name}`} />
        ))}
    </div>
  );
}

/** A button for an action: a first click arms it, a second within a few seconds runs it; its error shows beside it. */
export function Action({ label, run, done }: { label: string; run: () => Promise<unknown>; done?: () => void }) {
  const [armed, setArmed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!armed) return;
    const timer = setTimeout(() => setArmed(false), 5000);
    return () => clearTimeout(timer);
  }, [armed]);
  const click = async () => {
    if (!armed) return setArmed(true);
    setArmed(false);
    setBusy(true);
    setError(undefined);
    try {
      await run();
      done?.();
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button type="button" class={armed ? 'armed' : ''} disabled={busy} onClick={click}>
        {armed ? `Confirm: ${label}` : label}
      </button>
      <Failure message={error} />
    </span>
  );
}

export function Field({ name, children }: { name: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <dt>{name}</dt>
      <dd>{children}</dd>
    </div>
  );
}
