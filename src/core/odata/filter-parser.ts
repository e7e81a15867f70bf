// A recursive-descent parser for Batch's subset of OData v3 `$filter`:
//
//   filter     := or
//   or         := and ('or' and)*
//   and        := unary ('and' unary)*
//   unary      := 'not' unary | primary
//   primary    := '(' or ')' | startswith | property op literal
//   startswith := 'startswith' '(' property ',' string ')' [('eq' | 'ne') ('true' | 'false')]
//   op         := eq | ne | gt | ge | lt | le
//   literal    := 'text' ('' is a quote) | -?digits | true | false | datetime'…'
//
// Keywords and property names match without regard to case. The parser checks
// every property and literal against the list's table as it goes, so errors
// can name the position (1-based characters). Every failure is Batch's
// InvalidQueryParameterValue; length (4096 characters) and nesting (32 levels
// of parentheses or `not`, with `not (…)` one level) are capped so no input can
// exhaust the stack or SQLite's expression depth.

import { BatchError, batchErrors } from '../errors.js';
import { COMPARISON_OPERATORS, type ComparisonOperator, type FilterNode, type FilterProperty, type FilterValue } from './filter-ast.js';
import { tokenize, type Token } from './filter-lexer.js';
import { FILTER_PROPERTIES, findFilterProperty, type FilterListKind } from './filter-properties.js';
import { asciiLower, parseDatetime } from './filter-values.js';

export const FILTER_MAX_LENGTH = 4096;
export const FILTER_MAX_DEPTH = 32;

const KEYWORDS = new Set(['and', 'or', 'not', 'true', 'false', 'null', 'startswith', ...COMPARISON_OPERATORS]);

/** Parses and checks a filter for one list; throws InvalidQueryParameterValue naming the problem. */
export function parseFilter(text: string, kind: FilterListKind): FilterNode {
  const fail = (reason: string): BatchError => batchErrors.invalidQueryParameterValue('$filter', text, reason);
  if (text.length > FILTER_MAX_LENGTH) throw fail(`The filter is ${text.length} characters long; the limit is ${FILTER_MAX_LENGTH}.`);
  const lexed = tokenize(text);
  if (!lexed.ok) throw fail(lexed.reason);
  return new Parser(lexed.tokens, kind, fail).parse();
}

/** The `$filter` query parameter of a list: absent or blank means no filter. */
export function parseFilterParameter(text: string | undefined, kind: FilterListKind): FilterNode | undefined {
  return text === undefined || text.trim() === '' ? undefined : parseFilter(text, kind);
}

function describe(token: Token): string {
  switch (token.type) {
    case 'end':
      return 'the end of the filter';
    case 'word':
    case 'int':
      return `'${token.text}'`;
    case 'string':
      return `the string '${token.value.length > 40 ? `${token.value.slice(0, 40)}…` : token.value}'`;
    case 'datetime':
      return 'a datetime literal';
    default:
      return `'${token.type}'`;
  }
}

const EXPECTED: Record<FilterProperty['type'], string> = {
  string: "a quoted string such as 'text'",
  enum: "a quoted value such as 'active'",
  int: 'an integer such as 0',
  bool: 'true or false',
  datetime: "a datetime such as datetime'2024-01-02T03:04:05Z'",
};

class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly kind: FilterListKind,
    private readonly fail: (reason: string) => BatchError,
  ) {}

  parse(): FilterNode {
    if (this.peek().type === 'end') throw this.fail('The filter is empty.');
    const node = this.parseOr();
    const rest = this.peek();
    if (rest.type !== 'end') {
      throw this.fail(`Unexpected ${describe(rest)} at character ${rest.pos}; expected 'and', 'or' or the end of the filter.`);
    }
    return node;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.type !== 'end') this.index += 1;
    return token;
  }

  private isKeyword(token: Token, ...words: string[]): boolean {
    return token.type === 'word' && words.includes(token.text.toLowerCase());
  }

  private expect(type: '(' | ')' | ',', what: string): Token {
    const token = this.next();
    if (token.type !== type) throw this.fail(`Expected ${what} at character ${token.pos} but found ${describe(token)}.`);
    return token;
  }

  private nested<T>(pos: number, parse: () => T): T {
    this.depth += 1;
    if (this.depth > FILTER_MAX_DEPTH) {
      throw this.fail(`The filter nests parentheses or 'not' more than ${FILTER_MAX_DEPTH} levels deep at character ${pos}.`);
    }
    const result = parse();
    this.depth -= 1;
    return result;
  }

  private parseOr(): FilterNode {
    const operands = [this.parseAnd()];
    while (this.isKeyword(this.peek(), 'or')) {
      this.next();
      operands.push(this.parseAnd());
    }
    return operands.length === 1 ? (operands[0] as FilterNode) : { kind: 'or', operands };
  }

  private parseAnd(): FilterNode {
    const operands = [this.parseUnary()];
    while (this.isKeyword(this.peek(), 'and')) {
      this.next();
      operands.push(this.parseUnary());
    }
    return operands.length === 1 ? (operands[0] as FilterNode) : { kind: 'and', operands };
  }

  private parseUnary(): FilterNode {
    const token = this.peek();
    if (!this.isKeyword(token, 'not')) return this.parsePrimary();
    this.next();
    // `not (…)` is one level of nesting, not two.
    return this.nested(token.pos, () => ({
      kind: 'not',
      operand: this.peek().type === '(' ? this.parseGroup(this.next()) : this.parseUnary(),
    }));
  }

  private parsePrimary(): FilterNode {
    const token = this.peek();
    if (token.type === '(') {
      this.next();
      return this.nested(token.pos, () => this.parseGroup(token));
    }
    if (this.isKeyword(token, 'startswith') && this.peek(1).type === '(') return this.parseStartsWith();
    return this.parseComparison();
  }

  /** What follows an opening parenthesis, through its closing one. */
  private parseGroup(open: Token): FilterNode {
    const node = this.parseOr();
    this.expect(')', `')' to close the '(' at character ${open.pos}`);
    return node;
  }

  private parseProperty(): { property: FilterProperty; pos: number } {
    const token = this.next();
    if (token.type !== 'word' || KEYWORDS.has(token.text.toLowerCase())) {
      throw this.fail(`Expected a property name, 'not', 'startswith' or '(' at character ${token.pos} but found ${describe(token)}.`);
    }
    const property = findFilterProperty(this.kind, token.text);
    if (!property) {
      const names = FILTER_PROPERTIES[this.kind].map((p) => p.name).join(', ');
      throw this.fail(`The property '${token.text}' at character ${token.pos} cannot be used in a filter on this list; filterable properties are: ${names}.`);
    }
    return { property, pos: token.pos };
  }

  private parseComparison(): FilterNode {
    const { property } = this.parseProperty();
    const token = this.next();
    const op = token.type === 'word' ? (token.text.toLowerCase() as ComparisonOperator) : undefined;
    if (op === undefined || !COMPARISON_OPERATORS.includes(op)) {
      throw this.fail(
        `Expected a comparison operator (eq, ne, gt, ge, lt, le) after '${property.name}' at character ${token.pos} but found ${describe(token)}.`,
      );
    }
    if (!property.operators.includes(op)) {
      throw this.fail(`The operator '${op}' at character ${token.pos} cannot be used with '${property.name}'; it takes ${property.operators.join(', ')}.`);
    }
    return { kind: 'compare', property, op, value: this.parseLiteral(property) };
  }

  private parseLiteral(property: FilterProperty): FilterValue {
    const token = this.next();
    const mismatch = () =>
      this.fail(`'${property.name}' takes ${EXPECTED[property.type]}; found ${describe(token)} at character ${token.pos}.`);
    switch (property.type) {
      case 'string':
        if (token.type !== 'string') throw mismatch();
        return { type: 'string', value: token.value };
      case 'enum': {
        if (token.type !== 'string') throw mismatch();
        const value = asciiLower(token.value);
        if (property.values && !property.values.includes(value)) {
          throw this.fail(
            `${describe(token)} at character ${token.pos} is not a value of '${property.name}'; expected one of: ${property.values.join(', ')}.`,
          );
        }
        return { type: 'enum', value };
      }
      case 'int': {
        if (token.type !== 'int') throw mismatch();
        const value = Number(token.text) + 0; // + 0 turns -0 into 0
        if (!Number.isSafeInteger(value)) throw this.fail(`The integer ${token.text} at character ${token.pos} is out of range.`);
        return { type: 'int', value };
      }
      case 'bool':
        if (!this.isKeyword(token, 'true', 'false')) throw mismatch();
        return { type: 'bool', value: token.type === 'word' && token.text.toLowerCase() === 'true' };
      case 'datetime': {
        if (token.type !== 'datetime') throw mismatch();
        const parsed = parseDatetime(token.value);
        if (!parsed.ok) throw this.fail(`The datetime '${token.value}' at character ${token.pos} is not valid: ${parsed.reason}.`);
        return { type: 'datetime', value: parsed.value };
      }
    }
  }

  private parseStartsWith(): FilterNode {
    const start = this.next();
    this.expect('(', "'(' after startswith");
    const { property, pos } = this.parseProperty();
    if (property.type !== 'string' || !property.operators.includes('startswith')) {
      throw this.fail(`startswith at character ${start.pos} cannot be used with '${property.name}' (character ${pos}); it takes ${property.operators.join(', ')}.`);
    }
    this.expect(',', "',' after the property of startswith");
    const prefix = this.next();
    if (prefix.type !== 'string') {
      throw this.fail(`startswith takes a quoted prefix such as 'text'; found ${describe(prefix)} at character ${prefix.pos}.`);
    }
    this.expect(')', "')' to close startswith");
    const node: FilterNode = { kind: 'startswith', property, prefix: prefix.value };
    // OData clients often write `startswith(id,'a') eq true`.
    if (!this.isKeyword(this.peek(), 'eq', 'ne')) return node;
    const op = this.next() as Extract<Token, { type: 'word' }>;
    const truth = this.next();
    if (!this.isKeyword(truth, 'true', 'false')) {
      throw this.fail(`startswith(…) can only be compared with true or false; found ${describe(truth)} at character ${truth.pos}.`);
    }
    const negate = (op.text.toLowerCase() === 'eq') !== (truth.type === 'word' && truth.text.toLowerCase() === 'true');
    return negate ? { kind: 'not', operand: node } : node;
  }
}
