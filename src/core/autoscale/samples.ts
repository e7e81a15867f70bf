// The sample methods of the read-only service variables.
//
//   GetSample(double count)                               the `count` most recent samples
//   GetSample(start [, double samplePercent])             samples from `start` until now
//   GetSample(start, end [, double samplePercent])        samples between `start` and `end`
//   GetSamplePercent(start [, end])                       percent of the expected samples available
//   GetSamplePeriod()  Count()  HistoryBeginTime()        period, number of samples, oldest sample's time
//
// `start` and `end` are timestamps or time intervals looking back from now
// (`GetSample(1 * TimeInterval_Minute, 6 * TimeInterval_Minute)` is the five
// minutes that ended one minute ago); the window runs from the older to the
// newer point, the older end excluded. A window of length L expects ⌊L / period⌋
// samples. When fewer than `samplePercent` percent of them are available the
// evaluation fails with InsufficientSampleData, as Batch's; without a percent
// whatever is available is returned, possibly nothing. Vectors are oldest first.

import type { MethodName, Position } from './ast.js';
import { charge, makeVector, type EvalContext, type Sample } from './context.js';
import { evaluationError, FormulaError, INSUFFICIENT_SAMPLE_DATA, insufficientSampleData } from './errors.js';
import { double, interval, timestamp, type Value } from './values.js';

/** Index of the first sample with time > t (samples are sorted by time). */
function after(samples: readonly Sample[], t: number): number {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((samples[mid] as Sample).time > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function pointInTime(value: Value | undefined, ctx: EvalContext, method: string, pos: Position): number | undefined {
  if (value === undefined) return undefined;
  if (value.type === 'timestamp') return value.value;
  if (value.type === 'timeinterval') return ctx.now - value.value;
  throw evaluationError(`'${method}' takes a timestamp or a timeinterval here, not a ${value.type}`, pos);
}

interface Window {
  values: readonly Sample[];
  percent: number;
}

function window(samples: readonly Sample[], a: number, b: number, ctx: EvalContext, pos: Position): Window {
  const from = Math.min(a, b);
  const to = Math.max(a, b);
  const values = samples.slice(after(samples, from), after(samples, to));
  charge(ctx, values.length + 1, pos);
  const expected = Number.isFinite(to - from) ? Math.floor((to - from) / ctx.period) : Infinity;
  const percent = expected > 0 ? Math.min(100, (values.length / expected) * 100) : values.length > 0 ? 100 : 0;
  return { values, percent };
}

function percentArgument(value: Value | undefined, pos: Position): number | undefined {
  if (value === undefined) return undefined;
  if (value.type !== 'double') throw evaluationError(`The sample percent must be a double, not a ${value.type}`, pos);
  if (!(value.value >= 0 && value.value <= 100)) throw evaluationError(`The sample percent must be between 0 and 100, not ${value.value}`, pos);
  return value.value;
}

function getSample(variable: string, samples: readonly Sample[], args: readonly Value[], ctx: EvalContext, pos: Position): Value {
  const [first, second, third] = args;
  if (first?.type === 'double') {
    if (args.length > 1) throw evaluationError("'GetSample' with a sample count takes no other argument", pos);
    const count = Math.trunc(first.value);
    if (!(count >= 0)) throw evaluationError(`The sample count must be a non-negative number, not ${first.value}`, pos);
    const recent = samples.slice(Math.max(0, samples.length - Math.min(count, samples.length)));
    return makeVector(ctx, recent.map((s) => s.value), pos);
  }
  const start = pointInTime(first, ctx, 'GetSample', pos) as number;
  const end = second?.type === 'double' ? undefined : pointInTime(second, ctx, 'GetSample', pos);
  const wanted = percentArgument(end === undefined ? second : third, pos);
  if (end === undefined && third !== undefined) throw evaluationError("'GetSample' takes a percent only as its last argument", pos);
  const { values, percent } = window(samples, start, end ?? ctx.now, ctx, pos);
  if (wanted !== undefined && percent < wanted) throw insufficientSampleData(variable, wanted, Math.floor(percent), pos);
  return makeVector(ctx, values.map((s) => s.value), pos);
}

export function callMethod(variable: string, method: MethodName, args: readonly Value[], ctx: EvalContext, pos: Position): Value {
  const samples = ctx.samples.get(variable) ?? [];
  switch (method) {
    case 'GetSample':
      return getSample(variable, samples, args, ctx, pos);
    case 'GetSamplePercent': {
      const start = pointInTime(args[0], ctx, method, pos) as number;
      const end = pointInTime(args[1], ctx, method, pos) ?? ctx.now;
      return double(window(samples, start, end, ctx, pos).percent);
    }
    case 'GetSamplePeriod':
      return interval(ctx.period);
    case 'Count':
      return double(samples.length);
    case 'HistoryBeginTime': {
      const oldest = samples[0];
      if (!oldest) throw new FormulaError(INSUFFICIENT_SAMPLE_DATA, `Insufficient data from data set: ${variable} has no samples`, pos);
      return timestamp(oldest.time);
    }
  }
}
