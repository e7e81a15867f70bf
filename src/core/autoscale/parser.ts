// Recursive-descent parser for autoscale formulas, with C's precedence:
//
//   program     := statement? (';' statement?)*
//   statement   := NAME '=' expr | expr
//   expr        := or ('?' expr ':' expr)?
//   or          := and ('||' and)*          and        := equality ('&&' equality)*
//   equality    := relational (('==' | '!=') relational)*
//   relational  := additive (('<' | '<=' | '>' | '>=') additive)*
//   additive    := multiplicative (('+' | '-') multiplicative)*
//   multiplicative := unary (('*' | '/') unary)*
//   unary       := ('-' | '!') unary | postfix
//   postfix     := primary ('.' NAME ('(' args ')')?)*
//   primary     := NUMBER | STRING | '(' expr ')' | NAME '(' args ')' | NAME
//
// Names are resolved here: service variables (case-insensitive, `$TargetDedicated`
// aliases included), TimeInterval_* constants, functions and sample methods with
// their argument counts. An unknown function or method, or an assignment to a
// read-only variable or a constant, is a syntax error, as Batch checks a formula
// before it accepts it. Types are checked when the formula runs.

import type { BinaryOperator, Expr, FunctionName, MethodName, Position, Statement, AutoScaleProgram } from './ast.js';
import { FormulaError, syntaxError, TOO_LONG } from './errors.js';
import { tokenize, type Token } from './lexer.js';
import { SAMPLE_VARIABLES, WRITABLE_VARIABLES } from './types.js';

export const MAX_FORMULA_LENGTH = 8192;
export const MAX_STATEMENTS = 100;
/** Nesting of parentheses, unary operators and conditionals; bounds the recursion of parser and evaluator. */
export const MAX_NESTING = 64;

const MS = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
export const TIME_INTERVALS: Record<string, number> = {
  TimeInterval_Zero: 0,
  TimeInterval_100ns: 0.0001,
  TimeInterval_Microsecond: 0.001,
  TimeInterval_Millisecond: 1,
  TimeInterval_Second: MS.second,
  TimeInterval_Minute: MS.minute,
  TimeInterval_Hour: MS.hour,
  TimeInterval_Day: MS.day,
  TimeInterval_Week: 7 * MS.day,
  TimeInterval_Year: 365 * MS.day,
};

const FUNCTIONS: Record<FunctionName, [min: number, max: number]> = {
  avg: [0, Infinity],
  ceil: [1, Infinity],
  floor: [1, Infinity],
  len: [0, Infinity],
  lg: [1, Infinity],
  ln: [1, Infinity],
  log: [1, Infinity],
  max: [0, Infinity],
  min: [0, Infinity],
  norm: [0, Infinity],
  percentile: [2, 2],
  rand: [0, 0],
  range: [0, Infinity],
  round: [1, Infinity],
  std: [0, Infinity],
  stop: [0, 0],
  sum: [0, Infinity],
  time: [0, 1],
  val: [2, 2],
};

const METHODS: Record<MethodName, [min: number, max: number]> = {
  GetSample: [1, 3],
  GetSamplePeriod: [0, 0],
  Count: [0, 0],
  HistoryBeginTime: [0, 0],
  GetSamplePercent: [1, 2],
};

const SERVICE_NAMES = new Map<string, string>([...SAMPLE_VARIABLES, ...WRITABLE_VARIABLES].map((name) => [name.toLowerCase(), name]));
const READ_ONLY = new Set<string>(SAMPLE_VARIABLES);

const has = <K extends string>(table: Record<K, unknown>, key: string): key is K => Object.prototype.hasOwnProperty.call(table, key);

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  program(): AutoScaleProgram {
    const statements: Statement[] = [];
    for (;;) {
      while (this.accept(';')) {
        // empty statements are allowed
      }
      if (this.peek().kind === 'eof') break;
      if (statements.length === MAX_STATEMENTS) {
        throw syntaxError(`A formula can have at most ${MAX_STATEMENTS} statements`, this.peek().pos);
      }
      statements.push(this.statement());
      if (this.peek().kind !== 'eof') this.expect(';', "Expected ';' between statements");
    }
    if (statements.length === 0) throw syntaxError('The formula has no statements', this.peek().pos);
    return { statements };
  }

  private statement(): Statement {
    const first = this.peek();
    const next = this.tokens[this.index + 1];
    if (first.kind === 'name' && next?.kind === 'punct' && next.text === '=') {
      this.index += 2;
      return { kind: 'assign', target: this.assignable(first), value: this.expr(), pos: first.pos };
    }
    return { kind: 'expr', value: this.expr(), pos: first.pos };
  }

  private assignable(token: Token): { kind: 'service' | 'variable'; name: string } {
    const ref = this.reference(token);
    if (ref.kind === 'variable') return ref;
    if (ref.kind === 'service' && !READ_ONLY.has(ref.name)) return { kind: 'service', name: ref.name };
    const what = ref.kind === 'interval' ? 'the constant' : 'the read-only variable';
    throw syntaxError(`Cannot assign to ${what} ${token.text}`, token.pos);
  }

  private expr(): Expr {
    this.enter();
    const test = this.binary(0);
    let result = test;
    const question = this.peek();
    if (this.accept('?')) {
      const then = this.expr();
      this.expect(':', "Expected ':' in a conditional expression");
      const otherwise = this.expr();
      result = { kind: 'conditional', test, then, otherwise, pos: question.pos };
    }
    this.depth -= 1;
    return result;
  }

  private static readonly LEVELS: BinaryOperator[][] = [['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>='], ['+', '-'], ['*', '/']];

  private binary(level: number): Expr {
    const operators = Parser.LEVELS[level];
    if (!operators) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const token = this.peek();
      const op = operators.find((o) => token.kind === 'punct' && token.text === o);
      if (!op) return left;
      this.index += 1;
      left = { kind: 'binary', op, left, right: this.binary(level + 1), pos: token.pos };
    }
  }

  private unary(): Expr {
    const token = this.peek();
    if (token.kind === 'punct' && (token.text === '-' || token.text === '!')) {
      this.index += 1;
      this.enter();
      const operand = this.unary();
      this.depth -= 1;
      return { kind: 'unary', op: token.text, operand, pos: token.pos };
    }
    return this.postfix();
  }

  private postfix(): Expr {
    let expr = this.primary();
    let chain = 0;
    while (this.accept('.')) {
      chain += 1;
      if (chain > MAX_NESTING) throw syntaxError(`The formula chains more than ${MAX_NESTING} members`, this.peek().pos);
      const name = this.next();
      if (name.kind !== 'name' || name.text.startsWith('$')) throw syntaxError('Expected a member or method name after \'.\'', name.pos);
      const open = this.peek();
      if (!this.accept('(')) {
        expr = { kind: 'member', object: expr, member: name.text, pos: name.pos };
        continue;
      }
      if (!has(METHODS, name.text)) throw syntaxError(`Unknown method '${name.text}'`, name.pos);
      if (expr.kind !== 'service' || !READ_ONLY.has(expr.name)) {
        throw syntaxError(`Method '${name.text}' can only be called on a read-only service variable such as $CPUPercent`, name.pos);
      }
      const args = this.args(METHODS[name.text], name.text, name.pos);
      expr = { kind: 'method', variable: expr.name, method: name.text, args, pos: open.pos };
    }
    return expr;
  }

  private primary(): Expr {
    const token = this.next();
    if (token.kind === 'number') return { kind: 'number', value: Number(token.text), pos: token.pos };
    if (token.kind === 'string') return { kind: 'string', value: token.text, pos: token.pos };
    if (token.kind === 'name') {
      const open = this.peek();
      if (!this.accept('(')) return this.reference(token);
      if (token.text.startsWith('$') || !has(FUNCTIONS, token.text)) throw syntaxError(`Unknown function '${token.text}'`, token.pos);
      return { kind: 'call', name: token.text, args: this.args(FUNCTIONS[token.text], token.text, token.pos), pos: open.pos };
    }
    if (token.kind === 'punct' && token.text === '(') {
      const inner = this.expr();
      this.expect(')', "Expected ')'");
      return inner;
    }
    throw syntaxError(token.kind === 'eof' ? 'Unexpected end of formula' : `Unexpected '${token.text}'`, token.pos);
  }

  private reference(token: Token): Expr {
    const service = token.text.startsWith('$') ? SERVICE_NAMES.get(token.text.toLowerCase()) : undefined;
    if (service) return { kind: 'service', name: service, pos: token.pos };
    const interval = has(TIME_INTERVALS, token.text) ? TIME_INTERVALS[token.text] : undefined;
    if (interval !== undefined) return { kind: 'interval', name: token.text, ms: interval, pos: token.pos };
    return { kind: 'variable', name: token.text, pos: token.pos };
  }

  private args([min, max]: [number, number], name: string, pos: Position): Expr[] {
    const args: Expr[] = [];
    if (!this.accept(')')) {
      do args.push(this.expr());
      while (this.accept(','));
      this.expect(')', "Expected ',' or ')' in an argument list");
    }
    if (args.length < min || args.length > max) {
      const wanted = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
      throw syntaxError(`'${name}' takes ${wanted} argument${wanted === '1' ? '' : 's'}, not ${args.length}`, pos);
    }
    return args;
  }

  private enter(): void {
    this.depth += 1;
    if (this.depth > MAX_NESTING) throw syntaxError(`The formula nests expressions more than ${MAX_NESTING} deep`, this.peek().pos);
  }

  private peek(): Token {
    return this.tokens[this.index] ?? (this.tokens[this.tokens.length - 1] as Token);
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.index += 1;
    return token;
  }

  private accept(punct: string): boolean {
    const token = this.peek();
    if (token.kind !== 'punct' || token.text !== punct) return false;
    this.index += 1;
    return true;
  }

  private expect(punct: string, message: string): void {
    const token = this.peek();
    if (!this.accept(punct)) {
      throw syntaxError(`${message}, found ${token.kind === 'eof' ? 'the end of the formula' : `'${token.text}'`}`, token.pos);
    }
  }
}

/** Parses a formula; throws FormulaError (see index.ts for the non-throwing API). */
export function parseProgram(source: string): AutoScaleProgram {
  if (source.length > MAX_FORMULA_LENGTH) {
    throw new FormulaError(TOO_LONG, `The formula is ${source.length} characters long; the limit is ${MAX_FORMULA_LENGTH}`);
  }
  return new Parser(tokenize(source)).program();
}
