// The state one evaluation shares: the time, the sample history, the random
// source and a work budget. Vectors are the only values that can grow (list
// arguments are concatenated), so every element made or scanned is charged and
// a hostile formula ends with an error instead of eating memory or time.

import type { Position } from './ast.js';
import { evaluationError } from './errors.js';
import type { SampleVariable } from './types.js';
import { vector, type Value } from './values.js';

export const MAX_VECTOR_LENGTH = 50_000;
export const WORK_BUDGET = 1_000_000;

export interface Sample {
  time: number;
  value: number;
}

export interface EvalContext {
  readonly now: number;
  /** Milliseconds between samples. */
  readonly period: number;
  readonly random: () => number;
  readonly current: Partial<Record<SampleVariable, number>>;
  /** Per variable: available samples (taken at or before `now`), oldest first. */
  readonly samples: ReadonlyMap<string, readonly Sample[]>;
  budget: number;
}

export function charge(ctx: EvalContext, units: number, pos?: Position): void {
  ctx.budget -= units;
  if (ctx.budget < 0) throw evaluationError('The formula exceeds the evaluation work limit', pos);
}

export function makeVector(ctx: EvalContext, values: readonly number[], pos: Position): Value {
  if (values.length > MAX_VECTOR_LENGTH) {
    throw evaluationError(`A vector can have at most ${MAX_VECTOR_LENGTH} elements, not ${values.length}`, pos);
  }
  charge(ctx, values.length, pos);
  return vector(values);
}

/** A small deterministic generator (mulberry32), the default rand() source. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
