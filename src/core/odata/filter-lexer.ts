// Tokens of a Batch `$filter`. Positions are 1-based characters (UTF-16
// units) into the filter text, for error reasons a person can follow.

export type Token =
  | { type: '(' | ')' | ',' | 'end'; pos: number }
  /** A keyword or a property path such as `executionInfo/exitCode`. */
  | { type: 'word'; text: string; pos: number }
  | { type: 'string'; value: string; pos: number }
  | { type: 'int'; text: string; pos: number }
  /** The text between the quotes of `datetime'…'`. */
  | { type: 'datetime'; value: string; pos: number };

export type LexResult = { ok: true; tokens: Token[] } | { ok: false; reason: string };

const WORD = /[A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z_][A-Za-z0-9_]*)*/y;
const INT = /-?[0-9]+/y;

/** Reads `'…'` from `start` (at the opening quote); `''` is a quote. Answers the value and the index after it. */
function readQuoted(text: string, start: number): { value: string; end: number } | undefined {
  let value = '';
  let index = start + 1;
  while (index < text.length) {
    const next = text.indexOf("'", index);
    if (next < 0) break;
    value += text.slice(index, next);
    if (text[next + 1] === "'") {
      value += "'";
      index = next + 2;
    } else {
      return { value, end: next + 1 };
    }
  }
  return undefined;
}

function matchAt(pattern: RegExp, text: string, index: number): string | undefined {
  pattern.lastIndex = index;
  return pattern.exec(text)?.[0];
}

function describeChar(text: string, index: number): string {
  const code = text.codePointAt(index) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return code > 0x20 && code < 0x7f ? `'${String.fromCodePoint(code)}'` : hex;
}

export function tokenize(text: string): LexResult {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    const pos = index + 1;
    if (/\s/.test(char)) {
      index += 1;
      continue;
    }
    if (char === '(' || char === ')' || char === ',') {
      tokens.push({ type: char, pos });
      index += 1;
      continue;
    }
    if (char === "'") {
      const quoted = readQuoted(text, index);
      if (!quoted) return { ok: false, reason: `The string that starts at character ${pos} has no closing quote.` };
      tokens.push({ type: 'string', value: quoted.value, pos });
      index = quoted.end;
      continue;
    }
    const digits = matchAt(INT, text, index);
    if (digits !== undefined) {
      tokens.push({ type: 'int', text: digits, pos });
      index += digits.length;
      continue;
    }
    const word = matchAt(WORD, text, index);
    if (word === undefined) return { ok: false, reason: `Unexpected character ${describeChar(text, index)} at character ${pos}.` };
    index += word.length;
    if (word.toLowerCase() === 'datetime' && text[index] === "'") {
      const quoted = readQuoted(text, index);
      if (!quoted) return { ok: false, reason: `The datetime literal at character ${pos} has no closing quote.` };
      tokens.push({ type: 'datetime', value: quoted.value, pos });
      index = quoted.end;
    } else {
      tokens.push({ type: 'word', text: word, pos });
    }
  }
  tokens.push({ type: 'end', pos: text.length + 1 });
  return { ok: true, tokens };
}
