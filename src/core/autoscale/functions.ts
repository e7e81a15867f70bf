// The built-in functions. A doubleVecList argument is any comma-separated mix
// of doubles and doubleVecs, joined into one vector before the call:
// avg(v, 7) is avg(1, 2, 3, 7) when v is [1,2,3].
//
//   avg len max min norm range std sum (doubleVecList) → double
//   lg ln log ceil floor round (double) → double; (doubleVecList) → doubleVec, component-wise
//   percentile(doubleVec v, double p) → double    nearest-rank: the element at rank ⌈p/100·n⌉
//   rand() → double in [0, 1)                      val(doubleVec v, double i) → v[i], zero-based
//   time() → now; time(string) → that W3C-DTF or RFC 1123 time  (stop() is the evaluator's)
//
// Choices where the docs are silent: avg, max, min, range, std and percentile
// of an empty list are errors, which leave the pool's targets as they are
// (the docs guard windows that may be empty with GetSamplePercent; and every
// pool sample carries every variable, so a window reaching now is never
// empty); std of one value is 0; round() rounds halves to even like .NET's
// Math.Round; val() truncates a fractional index.

import type { FunctionName, Position } from './ast.js';
import { charge, makeVector, type EvalContext } from './context.js';
import { evaluationError } from './errors.js';
import { parseDateTime } from './timestamps.js';
import { double, timestamp, type Value } from './values.js';

function list(name: string, args: readonly Value[], ctx: EvalContext, pos: Position): number[] {
  const out: number[] = [];
  args.forEach((arg, i) => {
    if (arg.type === 'double') out.push(arg.value);
    else if (arg.type === 'doubleVec') {
      charge(ctx, arg.value.length, pos);
      for (const x of arg.value) out.push(x);
    } else throw evaluationError(`'${name}' takes doubles and doubleVecs, not a ${arg.type} (argument ${i + 1})`, pos);
  });
  return out;
}

function nonEmpty(name: string, values: number[], pos: Position): number[] {
  if (values.length === 0) throw evaluationError(`'${name}' of an empty list`, pos);
  return values;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

const ELEMENTWISE: Record<string, (x: number) => number> = {
  lg: Math.log2,
  ln: Math.log,
  log: Math.log10,
  ceil: Math.ceil,
  floor: Math.floor,
  round: roundHalfEven,
};

function sum(values: readonly number[]): number {
  let total = 0;
  for (const x of values) total += x;
  return total;
}

const AGGREGATES: Record<string, (values: number[], pos: Position) => number> = {
  avg: (v, pos) => sum(nonEmpty('avg', v, pos)) / v.length,
  len: (v) => v.length,
  max: (v, pos) => nonEmpty('max', v, pos).reduce((a, b) => (b > a ? b : a)),
  min: (v, pos) => nonEmpty('min', v, pos).reduce((a, b) => (b < a ? b : a)),
  norm: (v) => Math.sqrt(sum(v.map((x) => x * x))),
  range: (v, pos) => AGGREGATES.max!(v, pos) - AGGREGATES.min!(v, pos),
  std: (v, pos) => {
    const n = nonEmpty('std', v, pos).length;
    if (n === 1) return 0;
    const mean = sum(v) / n;
    return Math.sqrt(sum(v.map((x) => (x - mean) ** 2)) / (n - 1));
  },
  sum: (v) => sum(v),
};

function arg(name: string, args: readonly Value[], index: number, type: Value['type'], pos: Position): Value {
  const value = args[index];
  if (!value || value.type !== type) {
    throw evaluationError(`Argument ${index + 1} of '${name}' must be a ${type}, not a ${value?.type ?? 'nothing'}`, pos);
  }
  return value;
}

export function callFunction(name: Exclude<FunctionName, 'stop'>, args: readonly Value[], ctx: EvalContext, pos: Position): Value {
  const aggregate = AGGREGATES[name];
  if (aggregate) return double(aggregate(list(name, args, ctx, pos), pos));
  const elementwise = ELEMENTWISE[name];
  if (elementwise) {
    const only = args.length === 1 ? args[0] : undefined;
    if (only?.type === 'double') return double(elementwise(only.value));
    return makeVector(ctx, list(name, args, ctx, pos).map(elementwise), pos);
  }
  switch (name) {
    case 'rand': {
      const r = ctx.random();
      return double(Number.isFinite(r) ? r : 0);
    }
    case 'val': {
      const v = arg(name, args, 0, 'doubleVec', pos).value as readonly number[];
      const i = Math.trunc(arg(name, args, 1, 'double', pos).value as number);
      const element = Number.isInteger(i) && i >= 0 ? v[i] : undefined;
      if (element === undefined) throw evaluationError(`Index ${i} is outside the vector of ${v.length} elements`, pos);
      return double(element);
    }
    case 'percentile': {
      const v = arg(name, args, 0, 'doubleVec', pos).value as readonly number[];
      const p = arg(name, args, 1, 'double', pos).value as number;
      if (!(p >= 0 && p <= 100)) throw evaluationError(`The percentile must be between 0 and 100, not ${p}`, pos);
      charge(ctx, v.length, pos);
      const sorted = nonEmpty(name, [...v], pos).sort((a, b) => a - b);
      const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
      return double(sorted[rank - 1] as number);
    }
    case 'time': {
      if (args.length === 0) return timestamp(ctx.now);
      const input = arg(name, args, 0, 'string', pos).value as string;
      if (input.trim() === '') return timestamp(ctx.now);
      const parsed = parseDateTime(input);
      if (parsed === undefined) throw evaluationError(`'${input.slice(0, 64)}' is not a W3C-DTF or RFC 1123 date and time`, pos);
      return timestamp(parsed);
    }
    default:
      throw evaluationError(`Unknown function '${name}'`, pos);
  }
}
