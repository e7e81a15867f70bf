// Fault buttons (the server runs with --faults): one per fault kind the
// server lists, so a kind added to the server appears here by itself. A
// button opens the fault's JSON, prefilled with what this view is about
// (pool, node); the server checks it and names a wrong field.

import { useState } from 'preact/hooks';
import { dashboardGet, dashboardSend } from '../api';
import { Failure, messageOf, Section, useLoad } from '../components';

interface Faults {
  enabled: boolean;
  kinds: string[];
  value: ({ id: string; type: string } & Record<string, unknown>)[];
}

export function FaultButtons({ context }: { context: Record<string, string> }) {
  const [version, setVersion] = useState(0);
  const loaded = useLoad(() => dashboardGet<Faults>('/faults'), [version]);
  const [draft, setDraft] = useState<string>();
  const [error, setError] = useState<string>();
  const faults = loaded.data;
  if (!faults?.enabled) return null;
  const inject = async () => {
    setError(undefined);
    try {
      await dashboardSend('POST', '/faults', JSON.parse(draft ?? '{}'));
      setDraft(undefined);
      setVersion((value) => value + 1);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  const remove = async (id: string) => {
    await dashboardSend('DELETE', `/faults/${encodeURIComponent(id)}`).catch((failure: unknown) => setError(messageOf(failure)));
    setVersion((value) => value + 1);
  };
  return (
    <Section title="Inject a fault" id="faults">
      <div class="buttons">
        {faults.kinds.map((kind) => (
          <button type="button" key={kind} data-fault={kind} onClick={() => setDraft(JSON.stringify({ type: kind, ...context }, null, 2))}>
            {kind}
          </button>
        ))}
      </div>
      {draft !== undefined ? (
        <div class="fault-draft">
          <textarea rows={6} value={draft} onInput={(event) => setDraft((event.target as HTMLTextAreaElement).value)} aria-label="fault JSON" />
          <button type="button" onClick={inject}>Inject</button>
          <button type="button" onClick={() => setDraft(undefined)}>Cancel</button>
        </div>
      ) : null}
      <Failure message={error} />
      {faults.value.length > 0 ? (
        <ul class="active-faults">
          {faults.value.map((fault) => (
            <li key={fault.id}>
              <code>{JSON.stringify(fault)}</code> <button type="button" onClick={() => remove(fault.id)}>End</button>
            </li>
          ))}
        </ul>
      ) : null}
    </Section>
  );
}
