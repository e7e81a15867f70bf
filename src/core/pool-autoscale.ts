// A pool's autoscale settings and runs: enabling and disabling it, checking a
// formula as Batch does when it is set, and applying an evaluation's targets.
// The formula language itself is in ./autoscale/.

import { evaluateAutoScale, type AutoScaleInputs } from './autoscale/index.js';
import {
  AZURE_MIN_AUTOSCALE_INTERVAL_MS,
  checkFormula,
  checkInterval,
  DEFAULT_AUTOSCALE_INTERVAL,
  type AutoScaleRun,
  type AutoScaleSettings,
} from './autoscale-settings.js';
import { batchErrors } from './errors.js';
import type { ComputeNodeDeallocationOption, Pool } from './pool.js';
import { formatTimestamp, parseDuration } from './time.js';

export { checkFormula, type AutoScaleRun, type AutoScaleSettings } from './autoscale-settings.js';

/** Pool_EnableAutoScale: a formula is needed unless one is set already; a resize in progress forbids it. */
export function enablePoolAutoScale(pool: Pool, settings: AutoScaleSettings, minimumIntervalMs: number, now: Date, eTag: string): Pool {
  if (pool.state === 'deleting') throw batchErrors.poolBeingDeleted();
  if (pool.allocationState !== 'steady') throw batchErrors.poolBeingResized();
  const formula = settings.autoScaleFormula ?? (pool.enableAutoScale ? pool.autoScaleFormula : undefined);
  if (!formula) throw batchErrors.missingRequiredProperty('autoScaleFormula');
  checkFormula(formula);
  const interval = settings.autoScaleEvaluationInterval ?? (pool.enableAutoScale ? pool.autoScaleEvaluationInterval : undefined) ?? DEFAULT_AUTOSCALE_INTERVAL;
  checkInterval(interval, minimumIntervalMs);
  return { ...pool, eTag, lastModified: formatTimestamp(now), enableAutoScale: true, autoScaleFormula: formula, autoScaleEvaluationInterval: interval };
}

/** Pool_DisableAutoScale: the pool keeps its current targets. */
export function disablePoolAutoScale(pool: Pool, now: Date, eTag: string): Pool {
  if (pool.state === 'deleting') throw batchErrors.poolBeingDeleted();
  const { autoScaleFormula: _formula, autoScaleEvaluationInterval: _interval, autoScaleRun: _run, ...rest } = pool;
  return { ...rest, eTag, lastModified: formatTimestamp(now), enableAutoScale: false };
}

export function assertAutoScaleEnabled(pool: Pool): void {
  if (!pool.enableAutoScale) throw batchErrors.autoScaleNotEnabled();
}

/** Runs a formula against the pool's state; the pool itself is not changed. */
export function runFormula(pool: Pool, formula: string, inputs: Omit<AutoScaleInputs, 'targetDedicatedNodes' | 'targetLowPriorityNodes'>): {
  run: AutoScaleRun;
  targets?: { dedicated: number; lowPriority: number; deallocation: ComputeNodeDeallocationOption };
} {
  const outcome = evaluateAutoScale(formula, {
    ...inputs,
    targetDedicatedNodes: pool.targetDedicatedNodes,
    targetLowPriorityNodes: pool.targetLowPriorityNodes,
  });
  const timestamp = formatTimestamp(inputs.now instanceof Date ? inputs.now : new Date(inputs.now));
  if (!outcome.ok) return { run: { timestamp, results: outcome.results, error: outcome.error } };
  return {
    run: { timestamp, results: outcome.results },
    targets: { dedicated: outcome.targetDedicatedNodes, lowPriority: outcome.targetLowPriorityNodes, deallocation: outcome.nodeDeallocationOption },
  };
}

/** When the pool's next evaluation is due (epoch ms), counted from its last run. */
export function nextEvaluationTime(pool: Pool): number | undefined {
  if (!pool.enableAutoScale || pool.state !== 'active') return undefined;
  const interval = parseDuration(pool.autoScaleEvaluationInterval ?? DEFAULT_AUTOSCALE_INTERVAL) ?? AZURE_MIN_AUTOSCALE_INTERVAL_MS;
  const last = pool.autoScaleRun ? Date.parse(pool.autoScaleRun.timestamp) : undefined;
  return last === undefined ? 0 : last + interval;
}
