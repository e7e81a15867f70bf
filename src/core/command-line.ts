// Splits a Batch task command line into argv the way a POSIX shell tokenizes
// words, without any of the shell's expansions: Batch does not run command
// lines in a shell, so `$VAR`, globs, pipes and redirections stay literal.
//
//   'single quotes'  everything literal up to the next single quote
//   "double quotes"  literal except \" \\ \$ \` and backslash-newline
//   \x               outside quotes: x literally (backslash-newline joins lines)

export type SplitResult = { ok: true; argv: string[] } | { ok: false; reason: string };

export function splitCommandLine(commandLine: string): SplitResult {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const text = commandLine;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (inWord) {
        argv.push(word);
        word = '';
        inWord = false;
      }
      i += 1;
      continue;
    }
    inWord = true;
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === undefined) {
        word += '\\';
        i += 1;
      } else if (next === '\n') {
        i += 2;
      } else {
        word += next;
        i += 2;
      }
      continue;
    }
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { ok: false, reason: 'unterminated single quote' };
      word += text.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (ch === '"') {
      i += 1;
      let closed = false;
      while (i < text.length) {
        const c = text[i] as string;
        if (c === '"') {
          closed = true;
          i += 1;
          break;
        }
        if (c === '\\') {
          const next = text[i + 1];
          if (next === '"' || next === '\\' || next === '$' || next === '`') {
            word += next;
            i += 2;
            continue;
          }
          if (next === '\n') {
            i += 2;
            continue;
          }
        }
        word += c;
        i += 1;
      }
      if (!closed) return { ok: false, reason: 'unterminated double quote' };
      continue;
    }
    word += ch;
    i += 1;
  }
  if (inWord) argv.push(word);
  if (argv.length === 0) return { ok: false, reason: 'the command line is empty' };
  return { ok: true, argv };
}
