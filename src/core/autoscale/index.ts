// Azure Batch autoscale formulas: a pure parser and evaluator.
//
//   parseAutoScaleFormula(text)            → { ok: true, program } | { ok: false, error }
//   evaluateAutoScale(text | program, in)  → AutoScaleOutcome (targets, variables, results string) or
//                                            { ok: false, error, results } — never throws
//
// The language follows learn.microsoft.com/azure/batch/batch-automatic-scaling:
// statements separated by `;` (the last may omit it), at most 100 of them and
// 8192 characters; `//` comments; `name = expr` assignments (user variables
// with or without `$`); doubles, doubleVecs, strings, timestamps and
// timeintervals with the docs' operator table; the documented functions and
// sample methods; the read-write targets and the read-only metrics.
// Time comes in as `inputs.now` and randomness as `inputs.random`; nothing
// here reads a clock.
//
// Errors (see errors.ts for where each code and text comes from):
//   AutoScaleFormulaTooLong / AutoScalingFormulaSyntaxError   from parsing; Batch answers these
//                                                             on the request itself (HTTP 400)
//   AutoScalingFormulaEvaluationError / InsufficientSampleData from running; Batch reports these
//                                                             in AutoScaleRun.error with the old targets
// Every error carries one value { name: 'Message', value: 'Line L, Col C: …' } (no place for
// a formula that is too long).
//
// Not supported, each answered with a syntax or evaluation error naming the place:
//   - vector literals (`[1,2,3]`, `{1,2,3}`) and a `vec()` function: the docs write [1,2,3] only
//     as notation and mention vec(double) without documenting it;
//   - `/* */` comments, escapes in strings, exponents in numbers (`1e3`), `%`: not in the docs;
//   - operator/type pairs missing from the docs' table (`2 * vector`, `timestamp - timeinterval`,
//     comparisons of vectors);
//   - ceil, floor and round are supported although the versions of the docs read here do not
//     list them: later versions and formulas in the wild use them.
//
// Where Batch's behaviour is not documented, the choice is written at the
// place it is made (evaluator.ts, functions.ts, samples.ts, values.ts).

import type { AutoScaleProgram } from './ast.js';
import { seededRandom, WORK_BUDGET, type EvalContext, type Sample } from './context.js';
import { evaluationError, runError, SYNTAX_ERROR, toRunError } from './errors.js';
import { formatResults, runProgram, type InitialTargets } from './evaluator.js';
import { parseProgram } from './parser.js';
import {
  NODE_DEALLOCATION,
  NODE_DEALLOCATION_OPTIONS,
  SAMPLE_VARIABLES,
  TARGET_DEDICATED,
  TARGET_LOW_PRIORITY,
  type AutoScaleInputs,
  type AutoScaleOutcome,
  type AutoScaleParseResult,
  type NodeDeallocationOption,
  type SampleVariable,
} from './types.js';
import { formatDouble } from './values.js';

export type { AutoScaleProgram } from './ast.js';
export * from './types.js';
export { EVALUATION_ERROR, INSUFFICIENT_SAMPLE_DATA, SYNTAX_ERROR, TOO_LONG } from './errors.js';
export { MAX_FORMULA_LENGTH, MAX_STATEMENTS } from './parser.js';

export const DEFAULT_SAMPLE_PERIOD_MS = 30_000;

export function parseAutoScaleFormula(formula: string): AutoScaleParseResult {
  try {
    if (typeof formula !== 'string') return { ok: false, error: runError(SYNTAX_ERROR, 'The formula must be a string') };
    return { ok: true, program: parseProgram(formula) };
  } catch (error) {
    return { ok: false, error: toRunError(error) };
  }
}

const toMs = (time: Date | number): number => (time instanceof Date ? time.getTime() : Number(time));
const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

function initialTargets(inputs: AutoScaleInputs): InitialTargets {
  const option = inputs.nodeDeallocationOption;
  return {
    dedicated: isCount(inputs.targetDedicatedNodes) ? Math.trunc(inputs.targetDedicatedNodes) : 0,
    lowPriority: isCount(inputs.targetLowPriorityNodes) ? Math.trunc(inputs.targetLowPriorityNodes) : 0,
    deallocation: option && NODE_DEALLOCATION_OPTIONS.includes(option) ? option : ('requeue' as NodeDeallocationOption),
  };
}

function context(inputs: AutoScaleInputs, now: number): EvalContext {
  const current: Partial<Record<SampleVariable, number>> = {};
  const samples = new Map<string, Sample[]>();
  for (const name of SAMPLE_VARIABLES) {
    const value = inputs.values?.[name];
    if (typeof value === 'number' && Number.isFinite(value)) current[name] = value;
    const history = inputs.samples?.[name];
    if (!Array.isArray(history)) continue;
    const available = history
      .map((s) => ({ time: toMs(s.time), value: s.value }))
      .filter((s) => Number.isFinite(s.time) && s.time <= now && typeof s.value === 'number' && Number.isFinite(s.value))
      .sort((a, b) => a.time - b.time);
    samples.set(name, available);
  }
  const period = inputs.samplePeriodMs;
  return {
    now,
    period: typeof period === 'number' && Number.isFinite(period) && period > 0 ? period : DEFAULT_SAMPLE_PERIOD_MS,
    random: typeof inputs.random === 'function' ? inputs.random : seededRandom(now),
    current,
    samples,
    budget: WORK_BUDGET,
  };
}

function unchanged(initial: InitialTargets): string {
  return formatResults([
    { name: TARGET_DEDICATED, value: formatDouble(initial.dedicated) },
    { name: TARGET_LOW_PRIORITY, value: formatDouble(initial.lowPriority) },
    { name: NODE_DEALLOCATION, value: initial.deallocation },
  ]);
}

/** Evaluates a formula (text or parsed) against the pool's current state. Never throws. */
export function evaluateAutoScale(formula: string | AutoScaleProgram, inputs: AutoScaleInputs): AutoScaleOutcome {
  let initial: InitialTargets = { dedicated: 0, lowPriority: 0, deallocation: 'requeue' };
  try {
    initial = initialTargets(inputs);
    let program: AutoScaleProgram;
    if (typeof formula === 'string') {
      const parsed = parseAutoScaleFormula(formula);
      if (!parsed.ok) return { ok: false, error: parsed.error, results: unchanged(initial) };
      program = parsed.program;
    } else program = formula;
    const now = toMs(inputs.now);
    if (!Number.isFinite(now)) throw evaluationError('The evaluation time is not a valid time');
    const result = runProgram(program, context(inputs, now), initial);
    return { ok: true, ...result, results: formatResults(result.variables) };
  } catch (error) {
    return { ok: false, error: toRunError(error), results: unchanged(initial) };
  }
}
