// Pools: the list, and one pool's node heatmap (Batch Explorer's), its
// resize and autoscale history, and a resize form.

import { useState } from 'preact/hooks';
import { batchGet, batchList, batchPost, encode } from '../api';
import { Action, Counts, Field, Failure, Loading, messageOf, Section, State, useLoad } from '../components';
import { when } from '../format';
import { keptEvents, useLiveVersion, type LapisEvent } from '../live';
import type { ComputeNode, Pool } from '../models';
import { FaultButtons } from './faults';

export function PoolList() {
  const version = useLiveVersion((event) => event.resource === 'pool' || event.resource === 'node');
  const loaded = useLoad(() => batchList<Pool>('/pools'), [version]);
  return (
    <div class="view" data-view="pools">
      <h1>Pools</h1>
      <Loading loaded={loaded}>
        {(pools) => (
          <table id="pools">
            <thead>
              <tr><th>Pool</th><th>State</th><th>Allocation</th><th>VM size</th><th>Nodes (current / target)</th><th>Autoscale</th></tr>
            </thead>
            <tbody>
              {pools.map((pool) => (
                <tr key={pool.id}>
                  <td><a href={`#/pools/${encode(pool.id)}`}>{pool.id}</a></td>
                  <td><State value={pool.state} /></td>
                  <td><State value={pool.allocationState} /></td>
                  <td>{pool.vmSize}</td>
                  <td>{(pool.currentDedicatedNodes ?? 0) + (pool.currentLowPriorityNodes ?? 0)} / {(pool.targetDedicatedNodes ?? 0) + (pool.targetLowPriorityNodes ?? 0)}</td>
                  <td>{pool.enableAutoScale ? 'on' : 'off'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loading>
    </div>
  );
}

function Heatmap({ poolId, nodes }: { poolId: string; nodes: ComputeNode[] }) {
  const byState: Record<string, number> = {};
  for (const node of nodes) byState[node.state ?? 'unknown'] = (byState[node.state ?? 'unknown'] ?? 0) + 1;
  return (
    <>
      <Counts counts={byState} label="nodes by state" />
      <div class="heatmap" id="heatmap">
        {nodes.map((node) => (
          <a key={node.id} href={`#/pools/${encode(poolId)}/nodes/${encode(node.id)}`} class={`cell state-${node.state}`} title={`${node.id}: ${node.state}, ${node.runningTasksCount ?? 0} running`} data-node={node.id} />
        ))}
      </div>
    </>
  );
}

function ResizeForm({ pool, done }: { pool: Pool; done: () => void }) {
  const [dedicated, setDedicated] = useState(String(pool.targetDedicatedNodes ?? 0));
  const [lowPriority, setLowPriority] = useState(String(pool.targetLowPriorityNodes ?? 0));
  const [error, setError] = useState<string>();
  if (pool.enableAutoScale) return <p class="muted">Autoscale sets this pool's size.</p>;
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      await batchPost(`/pools/${encode(pool.id)}/resize`, { targetDedicatedNodes: Number(dedicated), targetLowPriorityNodes: Number(lowPriority) });
      done();
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  return (
    <form class="inline" onSubmit={submit} id="resize">
      <label>Dedicated <input type="number" min={0} value={dedicated} onInput={(event) => setDedicated((event.target as HTMLInputElement).value)} /></label>
      <label>Low-priority <input type="number" min={0} value={lowPriority} onInput={(event) => setLowPriority((event.target as HTMLInputElement).value)} /></label>
      <button type="submit">Resize</button>
      {pool.allocationState === 'resizing' ? <Action label="Stop resize" run={() => batchPost(`/pools/${encode(pool.id)}/stopresize`)} done={done} /> : null}
      <Failure message={error} />
    </form>
  );
}

interface Evaluation {
  timestamp: string;
  results?: string;
  error?: string;
}

/**
 * The pool's autoscale evaluations, newest first: each one the kept events
 * carry (Batch and the store keep only the last), and the pool's last one
 * when it is older than what the events hold.
 */
function evaluationsOf(pool: Pool, events: readonly LapisEvent[]): Evaluation[] {
  const evaluations = events
    .filter((event) => event.detail?.autoScaleEvaluation !== undefined)
    .map((event) => ({ timestamp: String(event.detail?.autoScaleEvaluation), results: event.detail?.autoScaleResults as string | undefined, error: event.detail?.autoScaleError as string | undefined }))
    .reverse();
  const last = pool.autoScaleRun;
  if (last?.timestamp && !evaluations.some((known) => known.timestamp === last.timestamp)) {
    evaluations.unshift({ timestamp: last.timestamp, results: last.results, error: last.error ? `${last.error.code}: ${last.error.message}` : undefined });
  }
  return evaluations;
}

/** What the event log still holds of the pool: resizes (targets, allocation state) in order; and the autoscale evaluations seen. */
function ResizeHistory({ pool }: { pool: Pool }) {
  const events = keptEvents((event) => event.resource === 'pool' && event.poolId?.toLowerCase() === pool.id.toLowerCase());
  const evaluations = evaluationsOf(pool, events);
  return (
    <>
      {pool.enableAutoScale ? <pre class="formula">{pool.autoScaleFormula}</pre> : null}
      {evaluations.length > 0 ? (
        <table id="autoscale-runs">
          <thead>
            <tr><th>Autoscale evaluation</th><th>Results</th><th>Error</th></tr>
          </thead>
          <tbody>
            {evaluations.map((run) => (
              <tr key={run.timestamp}>
                <td>{when(run.timestamp)}</td>
                <td><code>{run.results ?? '—'}</code></td>
                <td class="error">{run.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {(pool.resizeErrors ?? []).map((error) => (
        <p class="error" key={error.code}>{error.code}: {error.message}</p>
      ))}
      <table id="pool-history">
        <thead>
          <tr><th>Time</th><th>Change</th><th>State</th><th>Allocation</th><th>Target (dedicated / low-priority)</th><th>Current</th><th>Error</th></tr>
        </thead>
        <tbody>
          {events.filter((event) => event.change !== 'evaluated').map((event) => {
            const detail = event.detail ?? {};
            return (
              <tr key={event.id}>
                <td>{when(event.time)}</td>
                <td>{event.change}</td>
                <td>{event.previousState ? `${event.previousState} → ` : ''}{event.state}</td>
                <td><State value={detail.allocationState === undefined ? undefined : String(detail.allocationState)} /></td>
                <td>{detail.targetDedicatedNodes ?? '—'} / {detail.targetLowPriorityNodes ?? '—'}</td>
                <td>{detail.currentDedicatedNodes ?? '—'} / {detail.currentLowPriorityNodes ?? '—'}</td>
                <td class="error">{Object.entries(detail).filter(([name]) => /error/i.test(name)).map(([, value]) => String(value)).join(' ')}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {events.length === 0 ? <p class="muted">No pool events kept since the server started.</p> : null}
    </>
  );
}

export function PoolDetail({ poolId }: { poolId: string }) {
  const [bump, setBump] = useState(0);
  const live = useLiveVersion((event) => event.poolId?.toLowerCase() === poolId.toLowerCase(), [poolId]);
  const loaded = useLoad(
    async () => {
      const [pool, nodes] = await Promise.all([
        batchGet<Pool>(`/pools/${encode(poolId)}`),
        batchList<ComputeNode>(`/pools/${encode(poolId)}/nodes`, { $select: 'id,state,schedulingState,runningTasksCount,isDedicated' }, 5000),
      ]);
      return { pool, nodes };
    },
    [poolId, live, bump],
  );
  return (
    <div class="view" data-view="pool">
      <h1>Pool {poolId}</h1>
      <Loading loaded={loaded}>
        {({ pool, nodes }) => (
          <>
            <dl class="fields">
              <Field name="State"><State value={pool.state} /></Field>
              <Field name="Allocation"><State value={pool.allocationState} /> since {when(pool.allocationStateTransitionTime)}</Field>
              <Field name="VM size">{pool.vmSize}</Field>
              <Field name="Dedicated">{pool.currentDedicatedNodes ?? 0} of {pool.targetDedicatedNodes ?? 0}</Field>
              <Field name="Low-priority">{pool.currentLowPriorityNodes ?? 0} of {pool.targetLowPriorityNodes ?? 0}</Field>
              <Field name="Task slots per node">{pool.taskSlotsPerNode ?? 1}</Field>
            </dl>
            <Section title="Nodes">
              <Heatmap poolId={pool.id} nodes={nodes} />
            </Section>
            <Section title="Resize">
              <ResizeForm pool={pool} done={() => setBump((value) => value + 1)} />
            </Section>
            <Section title="Resize and autoscale history">
              <ResizeHistory pool={pool} />
            </Section>
            <FaultButtons context={{ poolId: pool.id }} />
          </>
        )}
      </Loading>
    </div>
  );
}
