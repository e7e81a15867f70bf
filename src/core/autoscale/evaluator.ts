// Runs a parsed formula statement by statement over one EvalContext and
// produces the targets and the results string.
//
// - Read-write variables start at the pool's current targets. `$TargetDedicated`
//   and `$TargetLowPriority` are separate spellings of the targets; when a
//   formula assigns both spellings, the full name's value is the target.
// - A read-only variable read as a value is its current value (`values`), else
//   its newest sample, else 0.
// - A user variable must be assigned before it is read. The bare names
//   requeue, terminate, taskcompletion and retaineddata, when not user
//   variables, are those strings (`$NodeDeallocationOption = taskcompletion;`).
// - `?:`, `&&` and `||` evaluate only what they need; stop() ends the formula
//   with the values assigned so far.
// - Targets must be finite and not negative; fractions are truncated toward
//   zero (Batch's own rounding is not documented; its examples add 3 before
//   dividing by 4 to round up, which suggests truncation).

import type { Expr, Position, Statement, AutoScaleProgram } from './ast.js';
import { charge, type EvalContext } from './context.js';
import { evaluationError } from './errors.js';
import { callFunction } from './functions.js';
import { applyBinary, applyUnary } from './operators.js';
import { callMethod } from './samples.js';
import { timestampMember } from './timestamps.js';
import {
  NODE_DEALLOCATION,
  NODE_DEALLOCATION_OPTIONS,
  TARGET_DEDICATED,
  TARGET_DEDICATED_ALIAS,
  TARGET_LOW_PRIORITY,
  TARGET_LOW_PRIORITY_ALIAS,
  type AutoScaleVariable,
  type NodeDeallocationOption,
  type SampleVariable,
} from './types.js';
import { double, formatDouble, formatValue, sizeOf, text, type Value } from './values.js';

export interface InitialTargets {
  dedicated: number;
  lowPriority: number;
  deallocation: NodeDeallocationOption;
}

export interface EvaluationResult {
  targetDedicatedNodes: number;
  targetLowPriorityNodes: number;
  nodeDeallocationOption: NodeDeallocationOption;
  variables: AutoScaleVariable[];
}

class Stop {}

const ALIASES: Record<string, string> = { [TARGET_DEDICATED]: TARGET_DEDICATED_ALIAS, [TARGET_DEDICATED_ALIAS]: TARGET_DEDICATED, [TARGET_LOW_PRIORITY]: TARGET_LOW_PRIORITY_ALIAS, [TARGET_LOW_PRIORITY_ALIAS]: TARGET_LOW_PRIORITY };

interface Assigned {
  value: Value;
  pos: Position;
}

class Evaluator {
  private readonly user = new Map<string, Value>();
  private readonly service = new Map<string, Assigned>();

  constructor(
    private readonly ctx: EvalContext,
    private readonly initial: InitialTargets,
  ) {}

  run(program: AutoScaleProgram): EvaluationResult {
    try {
      for (const statement of program.statements) this.statement(statement);
    } catch (signal) {
      if (!(signal instanceof Stop)) throw signal;
    }
    return this.result();
  }

  private statement(statement: Statement): void {
    const value = this.expr(statement.value);
    if (statement.kind === 'expr') return;
    const { target } = statement;
    if (target.kind === 'variable') {
      this.user.set(target.name, value);
      return;
    }
    if (target.name === NODE_DEALLOCATION) {
      if (value.type !== 'string' || !(NODE_DEALLOCATION_OPTIONS as readonly string[]).includes(value.value)) {
        const shown = value.type === 'string' ? `'${value.value.slice(0, 64)}'` : `a ${value.type}`;
        throw evaluationError(`${NODE_DEALLOCATION} must be one of ${NODE_DEALLOCATION_OPTIONS.join(', ')}, not ${shown}`, statement.pos);
      }
    } else if (value.type !== 'double') {
      throw evaluationError(`${target.name} must be a double, not a ${value.type}`, statement.pos);
    }
    this.service.set(target.name, { value, pos: statement.pos });
  }

  private expr(expr: Expr): Value {
    charge(this.ctx, 1, expr.pos);
    switch (expr.kind) {
      case 'number':
        return double(expr.value);
      case 'string':
        return text(expr.value);
      case 'interval':
        return { type: 'timeinterval', value: expr.ms };
      case 'service':
        return this.readService(expr.name);
      case 'variable':
        return this.readVariable(expr.name, expr.pos);
      case 'unary':
        return applyUnary(expr.op, this.expr(expr.operand), expr.pos);
      case 'binary':
        return this.binary(expr);
      case 'conditional': {
        const test = this.expr(expr.test);
        if (test.type !== 'double') throw evaluationError(`The condition of '?:' must be a double, not a ${test.type}`, expr.pos);
        return this.expr(test.value !== 0 ? expr.then : expr.otherwise);
      }
      case 'call': {
        if (expr.name === 'stop') throw new Stop();
        const args = expr.args.map((arg) => this.expr(arg));
        return callFunction(expr.name, args, this.ctx, expr.pos);
      }
      case 'method':
        return callMethod(expr.variable, expr.method, expr.args.map((arg) => this.expr(arg)), this.ctx, expr.pos);
      case 'member': {
        const object = this.expr(expr.object);
        if (object.type !== 'timestamp') throw evaluationError(`A ${object.type} has no member '${expr.member}'`, expr.pos);
        const member = timestampMember(object.value, expr.member);
        if (member === undefined) throw evaluationError(`A timestamp has no member '${expr.member}'`, expr.pos);
        return double(member);
      }
    }
  }

  /** Walks the left spine of `a + b + c + …` in a loop: a long chain must not deepen the stack. */
  private binary(expr: Extract<Expr, { kind: 'binary' }>): Value {
    const spine: Extract<Expr, { kind: 'binary' }>[] = [];
    let node: Expr = expr;
    while (node.kind === 'binary') {
      spine.push(node);
      node = node.left;
    }
    charge(this.ctx, spine.length, expr.pos);
    let value = this.expr(node);
    for (let i = spine.length - 1; i >= 0; i -= 1) {
      const { op, right, pos } = spine[i] as Extract<Expr, { kind: 'binary' }>;
      if ((op === '&&' || op === '||') && value.type === 'double' && (op === '&&' ? value.value === 0 : value.value !== 0)) {
        value = double(op === '&&' ? 0 : 1);
        continue;
      }
      value = applyBinary(op, value, this.expr(right), this.ctx, pos);
    }
    return value;
  }

  private readService(name: string): Value {
    const own = this.service.get(name) ?? (ALIASES[name] ? this.service.get(ALIASES[name]) : undefined);
    if (own) return own.value;
    if (name === TARGET_DEDICATED || name === TARGET_DEDICATED_ALIAS) return double(this.initial.dedicated);
    if (name === TARGET_LOW_PRIORITY || name === TARGET_LOW_PRIORITY_ALIAS) return double(this.initial.lowPriority);
    if (name === NODE_DEALLOCATION) return text(this.initial.deallocation);
    const current = this.ctx.current[name as SampleVariable];
    if (current !== undefined) return double(current);
    const samples = this.ctx.samples.get(name);
    return double(samples?.[samples.length - 1]?.value ?? 0);
  }

  private readVariable(name: string, pos: Position): Value {
    const value = this.user.get(name);
    if (value) return value;
    if ((NODE_DEALLOCATION_OPTIONS as readonly string[]).includes(name)) return text(name);
    throw evaluationError(`The variable '${name}' is used before it is assigned`, pos);
  }

  private target(full: string, alias: string, initial: number): number {
    const assigned = this.service.get(full) ?? this.service.get(alias);
    if (!assigned) return initial;
    const n = assigned.value.value as number;
    const whole = Math.trunc(n);
    if (!Number.isFinite(n) || whole < 0 || whole > Number.MAX_SAFE_INTEGER) {
      throw evaluationError(`${full} must be a finite number that is not negative, not ${formatDouble(n)}`, assigned.pos);
    }
    return whole === 0 ? 0 : whole;
  }

  private result(): EvaluationResult {
    const targetDedicatedNodes = this.target(TARGET_DEDICATED, TARGET_DEDICATED_ALIAS, this.initial.dedicated);
    const targetLowPriorityNodes = this.target(TARGET_LOW_PRIORITY, TARGET_LOW_PRIORITY_ALIAS, this.initial.lowPriority);
    const deallocation = this.service.get(NODE_DEALLOCATION)?.value.value as NodeDeallocationOption | undefined;
    const nodeDeallocationOption = deallocation ?? this.initial.deallocation;
    const variables: AutoScaleVariable[] = [
      { name: TARGET_DEDICATED, value: formatDouble(targetDedicatedNodes) },
      { name: TARGET_LOW_PRIORITY, value: formatDouble(targetLowPriorityNodes) },
      { name: NODE_DEALLOCATION, value: nodeDeallocationOption },
    ];
    const names = [...this.user.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const value = this.user.get(name) as Value;
      charge(this.ctx, sizeOf(value));
      variables.push({ name, value: formatValue(value) });
    }
    return { targetDedicatedNodes, targetLowPriorityNodes, nodeDeallocationOption, variables };
  }
}

export function runProgram(program: AutoScaleProgram, ctx: EvalContext, initial: InitialTargets): EvaluationResult {
  return new Evaluator(ctx, initial).run(program);
}

export function formatResults(variables: readonly AutoScaleVariable[]): string {
  return variables.map(({ name, value }) => `${name}=${value}`).join(';');
}
