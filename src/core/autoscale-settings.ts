// A pool's autoscale settings as Batch checks them when they are set: the
// formula must parse, the interval must be within bounds.

import { parseAutoScaleFormula, type AutoScaleRunError } from './autoscale/index.js';
import { BatchError, batchErrors } from './errors.js';
import { parseDuration } from './time.js';

export const DEFAULT_AUTOSCALE_INTERVAL = 'PT15M';
/** Batch's minimum evaluation interval; a server may allow less for local use. */
export const AZURE_MIN_AUTOSCALE_INTERVAL_MS = 5 * 60_000;
const MAX_AUTOSCALE_INTERVAL_MS = 168 * 3_600_000;

export interface AutoScaleRun {
  timestamp: string;
  results?: string;
  error?: AutoScaleRunError;
}

export interface AutoScaleSettings {
  autoScaleFormula?: string;
  autoScaleEvaluationInterval?: string;
}

/** A formula that does not parse is refused on the request itself, with the formula error's own code. */
export function checkFormula(formula: string): void {
  const parsed = parseAutoScaleFormula(formula);
  if (!parsed.ok) {
    throw new BatchError(
      parsed.error.code,
      'badRequest',
      parsed.error.message,
      parsed.error.values.map((value) => ({ key: value.name, value: value.value })),
    );
  }
}

export function checkInterval(interval: string, minimumMs: number): void {
  const ms = parseDuration(interval);
  if (ms === undefined || ms < minimumMs || ms > MAX_AUTOSCALE_INTERVAL_MS) {
    throw batchErrors.invalidPropertyValue(
      'autoScaleEvaluationInterval',
      `The interval must be between ${Math.round(minimumMs / 1000)} seconds and 168 hours.`,
    );
  }
}
