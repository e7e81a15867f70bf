import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitCommandLine } from '../../src/core/command-line.js';

const argv = (line: string) => {
  const result = splitCommandLine(line);
  assert.ok(result.ok, `expected ${line} to parse`);
  return result.argv;
};

test('splits on whitespace without a shell', () => {
  assert.deepEqual(argv('/bin/echo  hello\tworld'), ['/bin/echo', 'hello', 'world']);
});

test('double quotes group words and keep $VAR, globs and pipes literal', () => {
  assert.deepEqual(argv('/bin/bash -c "cat taskdata0.txt | wc -l > $HOME/out"'), ['/bin/bash', '-c', 'cat taskdata0.txt | wc -l > $HOME/out']);
  assert.deepEqual(argv('echo *.txt $PATH'), ['echo', '*.txt', '$PATH']);
});

test('single quotes are literal, backslashes included', () => {
  assert.deepEqual(argv("printf 'a\\nb \"c\"'"), ['printf', 'a\\nb "c"']);
});

test('backslash escapes inside double quotes only for the shell\'s special characters', () => {
  assert.deepEqual(argv('echo "a\\"b" "c\\d" "e\\\\f"'), ['echo', 'a"b', 'c\\d', 'e\\f']);
});

test('backslash outside quotes escapes the next character', () => {
  assert.deepEqual(argv('echo a\\ b c'), ['echo', 'a b', 'c']);
});

test('adjacent quoted parts join into one word, and empty quotes are an empty argument', () => {
  assert.deepEqual(argv(`echo ab"cd"'ef' ""`), ['echo', 'abcdef', '']);
});

test('unterminated quotes and empty lines are refused with a reason', () => {
  assert.deepEqual(splitCommandLine('echo "oops'), { ok: false, reason: 'unterminated double quote' });
  assert.deepEqual(splitCommandLine("echo 'oops"), { ok: false, reason: 'unterminated single quote' });
  assert.deepEqual(splitCommandLine('   '), { ok: false, reason: 'the command line is empty' });
});
