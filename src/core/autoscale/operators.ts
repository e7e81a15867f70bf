// The operator table of the docs, and nothing more:
//
//   double       + - * /  double        → double
//   double       *        timeinterval  → timeinterval
//   doubleVec    + - * /  double        → doubleVec    (element-wise)
//   doubleVec    + - * /  doubleVec     → doubleVec    (element-wise, equal lengths)
//   timeinterval * /      double        → timeinterval
//   timeinterval + -      timeinterval  → timeinterval
//   timeinterval +        timestamp     → timestamp    (and timestamp + timeinterval)
//   timestamp    -        timestamp     → timeinterval
//   - ! double → double, - timeinterval → timeinterval
//   < <= == >= > != on two doubles, strings, timestamps or timeintervals → 1 or 0
//   && || on doubles → 1 or 0 (the evaluator short-circuits them)
//
// So `2 * vector` and `timestamp - timeinterval` are type errors, as in the
// table (the docs write `time() + (-6 * TimeInterval_Hour)`).

import type { BinaryOperator, Position, UnaryOperator } from './ast.js';
import { makeVector, type EvalContext } from './context.js';
import { evaluationError } from './errors.js';
import { double, interval, timestamp, truth, type Value } from './values.js';

type Arithmetic = '+' | '-' | '*' | '/';

function arithmetic(op: Arithmetic, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
  }
}

function compare(op: BinaryOperator, a: number | string, b: number | string): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    default:
      return a !== b;
  }
}

const COMPARISONS = new Set<BinaryOperator>(['<', '<=', '==', '!=', '>=', '>']);

function typeError(op: string, left: Value, right: Value, pos: Position): Error {
  return evaluationError(`Operator '${op}' cannot be applied to ${left.type} and ${right.type}`, pos);
}

export function applyBinary(op: BinaryOperator, left: Value, right: Value, ctx: EvalContext, pos: Position): Value {
  if (COMPARISONS.has(op)) {
    const comparable = left.type === right.type && left.type !== 'doubleVec';
    if (!comparable) throw typeError(op, left, right, pos);
    return truth(compare(op, left.value as number | string, right.value as number | string));
  }
  if (op === '&&' || op === '||') {
    if (left.type !== 'double' || right.type !== 'double') throw typeError(op, left, right, pos);
    return truth(op === '&&' ? left.value !== 0 && right.value !== 0 : left.value !== 0 || right.value !== 0);
  }
  const a = op as Arithmetic;
  if (left.type === 'double' && right.type === 'double') return double(arithmetic(a, left.value, right.value));
  if (left.type === 'doubleVec' && right.type === 'double') {
    const b = right.value;
    return makeVector(ctx, left.value.map((x) => arithmetic(a, x, b)), pos);
  }
  if (left.type === 'doubleVec' && right.type === 'doubleVec') {
    const b = right.value;
    if (left.value.length !== b.length) {
      throw evaluationError(`Operator '${op}' needs vectors of equal length, not ${left.value.length} and ${b.length}`, pos);
    }
    return makeVector(ctx, left.value.map((x, i) => arithmetic(a, x, b[i] as number)), pos);
  }
  if (op === '*' && left.type === 'double' && right.type === 'timeinterval') return interval(left.value * right.value);
  if ((op === '*' || op === '/') && left.type === 'timeinterval' && right.type === 'double') {
    return interval(arithmetic(op, left.value, right.value));
  }
  if ((op === '+' || op === '-') && left.type === 'timeinterval' && right.type === 'timeinterval') {
    return interval(arithmetic(op, left.value, right.value));
  }
  if (op === '+' && left.type === 'timeinterval' && right.type === 'timestamp') return timestamp(left.value + right.value);
  if (op === '+' && left.type === 'timestamp' && right.type === 'timeinterval') return timestamp(left.value + right.value);
  if (op === '-' && left.type === 'timestamp' && right.type === 'timestamp') return interval(left.value - right.value);
  throw typeError(op, left, right, pos);
}

export function applyUnary(op: UnaryOperator, operand: Value, pos: Position): Value {
  if (operand.type === 'double') return op === '-' ? double(-operand.value) : truth(operand.value === 0);
  if (op === '-' && operand.type === 'timeinterval') return interval(-operand.value);
  throw evaluationError(`Operator '${op}' cannot be applied to ${operand.type}`, pos);
}
