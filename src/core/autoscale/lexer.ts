// Splits a formula into tokens: numbers (`12`, `0.7`), double-quoted strings
// (no escapes), names (`avg`, `$CPUPercent`, `TimeInterval_Minute`), operators
// and punctuation. Whitespace and line breaks separate tokens; `//` starts a
// comment that runs to the end of the line.

import type { Position } from './ast.js';
import { syntaxError } from './errors.js';

export type TokenKind = 'number' | 'string' | 'name' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  pos: Position;
}

// Longest first, so `<=` wins over `<`.
const PUNCTUATION = ['<=', '>=', '==', '!=', '&&', '||', '+', '-', '*', '/', '<', '>', '!', '=', '?', ':', '(', ')', ',', '.', ';'];

const isDigit = (ch: string) => ch >= '0' && ch <= '9';
const isNameStart = (ch: string) => (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch === '_';
const isNamePart = (ch: string) => isNameStart(ch) || isDigit(ch);

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const here = (at: number): Position => ({ line, column: at - lineStart + 1 });

  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === '\n') {
      i += 1;
      line += 1;
      lineStart = i;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i += 1;
      continue;
    }
    if (ch === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i += 1;
      continue;
    }
    const start = i;
    if (isDigit(ch)) {
      while (i < source.length && isDigit(source[i] as string)) i += 1;
      if (source[i] === '.' && isDigit(source[i + 1] ?? '')) {
        i += 1;
        while (i < source.length && isDigit(source[i] as string)) i += 1;
      }
      tokens.push({ kind: 'number', text: source.slice(start, i), pos: here(start) });
      continue;
    }
    if (isNameStart(ch) || (ch === '$' && isNameStart(source[i + 1] ?? ''))) {
      i += 1;
      while (i < source.length && isNamePart(source[i] as string)) i += 1;
      tokens.push({ kind: 'name', text: source.slice(start, i), pos: here(start) });
      continue;
    }
    if (ch === '"') {
      const end = source.indexOf('"', i + 1);
      const newline = source.indexOf('\n', i + 1);
      if (end < 0 || (newline >= 0 && newline < end)) throw syntaxError('Unterminated string literal', here(start));
      tokens.push({ kind: 'string', text: source.slice(i + 1, end), pos: here(start) });
      i = end + 1;
      continue;
    }
    const punct = PUNCTUATION.find((p) => source.startsWith(p, i));
    if (!punct) {
      const shown = ch === '$' ? '$' : JSON.stringify(String.fromCodePoint(source.codePointAt(i) ?? 0));
      throw syntaxError(`Unexpected character ${shown}`, here(start));
    }
    tokens.push({ kind: 'punct', text: punct, pos: here(start) });
    i += punct.length;
  }
  tokens.push({ kind: 'eof', text: '', pos: here(i) });
  return tokens;
}
