// Output file patterns → file sets, on a real temporary task directory:
// Batch's wildcards, `..` up to the task directory, `$VAR` expansion, blob
// names from `path`, and the confinement rules (symlinks, outside paths).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collectOutputFiles, expandVariables, globMatcher, hasWildcards, OutputPatternError, type TaskPaths } from '../../src/agent/output-file-patterns.js';
import { blobOptionsFromHeaders, shouldUpload } from '../../src/agent/output-files.js';

let root: string;
let paths: TaskPaths;

function write(relative: string, content = relative): void {
  const file = path.join(paths.taskDirectory, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-output-files-'));
  const taskDirectory = path.join(root, 'workitems', 'job', 'job-1', 'task');
  paths = {
    taskDirectory,
    workingDirectory: path.join(taskDirectory, 'wd'),
    environment: { AZ_BATCH_TASK_DIR: taskDirectory, OUT: 'results', EMPTY: '' },
  };
  for (const file of [
    'stdout.txt',
    'stderr.txt',
    'wd/a.txt',
    'wd/b.log',
    'wd/.hidden.txt',
    'wd/file1.txt',
    'wd/filea.txt',
    'wd/abc*',
    'wd/abcd',
    'wd/report (1).txt',
    'wd/results/x.txt',
    'wd/results/deep/y.txt',
    'wd/results/deep/deeper/z.txt',
    'wd/results/deep/z.csv',
    'wd/.cache/c.txt',
    'wd/{a,b}.txt',
  ]) {
    write(file);
  }
  write('../other-task/secret.txt');
  fs.symlinkSync('/etc/passwd', path.join(paths.workingDirectory, 'passwd.txt'));
  fs.symlinkSync('/etc', path.join(paths.workingDirectory, 'etc'));
  fs.symlinkSync(path.join(paths.workingDirectory, 'a.txt'), path.join(paths.workingDirectory, 'inside-link.txt'));
  fs.symlinkSync(path.join(paths.workingDirectory, 'results'), path.join(paths.workingDirectory, 'results-link'));
  fs.symlinkSync(path.join(root, 'workitems', 'job', 'job-1', 'other-task', 'secret.txt'), path.join(paths.workingDirectory, 'neighbour.txt'));
});

after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

async function relativesOf(filePattern: string, blobPath?: string): Promise<string[]> {
  const collection = await collectOutputFiles({ filePattern, path: blobPath }, paths);
  return collection.files.map((file) => file.relative).sort();
}

async function blobNamesOf(filePattern: string, blobPath?: string): Promise<string[]> {
  const collection = await collectOutputFiles({ filePattern, path: blobPath }, paths);
  return collection.files.map((file) => file.blobName).sort();
}

describe('globMatcher: Batch wildcards, read as Python glob reads them', () => {
  const cases: [string, string[], string[]][] = [
    ['*.txt', ['a.txt', 'x.y.txt'], ['dir/a.txt', '.a.txt', '.txt', 'a.txt.log']],
    ['**/*.txt', ['a.txt', 'd/a.txt', 'd/e/f/a.txt'], ['.d/a.txt', 'd/.e/a.txt', 'd/.a.txt', 'a.log']],
    ['.*.gif', ['.a.gif', '..gif'], ['a.gif']],
    ['file?.txt', ['file1.txt', 'filea.txt'], ['file.txt', 'file12.txt']],
    ['file[0-9].txt', ['file1.txt'], ['filea.txt']],
    ['file[!0-9].txt', ['filea.txt'], ['file1.txt']],
    ['file[abc].txt', ['filea.txt', 'filec.txt'], ['filed.txt']],
    ['abc[*]', ['abc*'], ['abcd', 'abc']],
    ['x[]a]', ['x]', 'xa'], ['xb']],
    ['x[a-]', ['xa', 'x-'], ['xb']],
    ['x[z-a]y', [], ['xzy', 'xay']],
    ['a[', ['a['], ['ab']],
    ['report (*).txt', ['report (1).txt'], ['report 1.txt']],
    ['{a,b}.txt', ['{a,b}.txt'], ['a.txt']],
    ['!a.txt', ['!a.txt'], ['b.txt']],
    ['a+.txt', ['a+.txt'], ['aa.txt']],
    ['a**b', ['ab', 'axyb'], ['ax/yb']],
    ['d/**', ['d/a', 'd/e/f'], ['d/.e/f', 'x/a']],
    ['**', ['a', 'a/b'], ['.a', 'a/.b']],
  ];
  for (const [glob, yes, no] of cases) {
    test(`'${glob}'`, () => {
      const matches = globMatcher(glob);
      for (const name of yes) assert.ok(matches(name), `'${glob}' should match '${name}'`);
      for (const name of no) assert.ok(!matches(name), `'${glob}' should not match '${name}'`);
    });
  }

  test('hasWildcards is Python glob.has_magic: *, ? or [', () => {
    assert.ok(hasWildcards('*.txt'));
    assert.ok(hasWildcards('a?'));
    assert.ok(hasWildcards('abc[*]'));
    assert.ok(!hasWildcards('../stdout.txt'));
    assert.ok(!hasWildcards('report (1).txt'));
  });
});

describe('collectOutputFiles', () => {
  test('**/*.txt takes every non-hidden .txt under wd, keeping relative paths, not through symlinked dirs or to outside targets', async () => {
    assert.deepEqual(await relativesOf('**/*.txt'), [
      'a.txt',
      'file1.txt',
      'filea.txt',
      'inside-link.txt',
      'report (1).txt',
      'results/deep/deeper/z.txt',
      'results/deep/y.txt',
      'results/x.txt',
      '{a,b}.txt',
    ]);
    assert.deepEqual(await blobNamesOf('**/*.txt', 'out/'), (await relativesOf('**/*.txt')).map((name) => `out/${name}`));
  });

  test('a symlink in wd to a file outside the task directory is never collected', async () => {
    const collection = await collectOutputFiles({ filePattern: '*.txt' }, paths);
    assert.ok(!collection.files.some((file) => file.relative === 'passwd.txt'));
    assert.ok(collection.skipped.some((skip) => skip.file.endsWith('passwd.txt')));
    const single = await collectOutputFiles({ filePattern: 'passwd.txt' }, paths);
    assert.deepEqual(single.files, []);
    const throughLink = await collectOutputFiles({ filePattern: 'etc/pass*' }, paths);
    assert.deepEqual(throughLink.files, []);
    const inside = await collectOutputFiles({ filePattern: 'inside-link.txt' }, paths);
    assert.equal(inside.files[0]?.source, fs.realpathSync(path.join(paths.workingDirectory, 'a.txt')));
  });

  test('a link to another task\'s file on the node is outside this task directory', async () => {
    const collection = await collectOutputFiles({ filePattern: 'neighbour.txt' }, paths);
    assert.deepEqual(collection.files, []);
    assert.equal(collection.skipped.length, 1);
  });

  test('../std*.txt reaches the task directory; path is a virtual directory', async () => {
    assert.deepEqual(await blobNamesOf('../std*.txt', 'task1'), ['task1/stderr.txt', 'task1/stdout.txt']);
    assert.deepEqual(await blobNamesOf('../std*.txt'), ['stderr.txt', 'stdout.txt']);
  });

  test('a single file: path is the blob name, or the file name without one', async () => {
    assert.deepEqual(await blobNamesOf('results/deep/y.txt'), ['y.txt']);
    assert.deepEqual(await blobNamesOf('results/deep/y.txt', 'renamed/why.txt'), ['renamed/why.txt']);
    assert.deepEqual(await blobNamesOf('../stdout.txt', 'logs/out.txt'), ['logs/out.txt']);
    assert.deepEqual(await blobNamesOf('missing.txt'), [], 'no file, nothing to upload');
    assert.deepEqual(await blobNamesOf('results'), [], 'a directory is not a file');
  });

  test('wildcards keep paths relative to the part of the pattern before the first wildcard', async () => {
    assert.deepEqual(await blobNamesOf('results/*.txt', 'p'), ['p/x.txt']);
    assert.deepEqual(await blobNamesOf('results/**/*.txt', 'p'), ['p/deep/deeper/z.txt', 'p/deep/y.txt', 'p/x.txt']);
    assert.deepEqual(await blobNamesOf('results/*/*.csv'), ['deep/z.csv']);
    assert.deepEqual(await blobNamesOf('results-link/*.txt'), ['x.txt'], 'a symlinked base inside the task directory is followed');
  });

  test('dot files only when the pattern names them', async () => {
    assert.ok(!(await relativesOf('*.txt')).includes('.hidden.txt'));
    assert.deepEqual(await relativesOf('.*.txt'), ['.hidden.txt']);
    assert.deepEqual(await relativesOf('.cache/*.txt'), ['c.txt']);
  });

  test('escaped wildcards and literal brackets, braces, parentheses', async () => {
    assert.deepEqual(await relativesOf('abc[*]'), ['abc*']);
    assert.deepEqual(await relativesOf('file[!0-9].txt'), ['filea.txt']);
    assert.deepEqual(await relativesOf('report (*).txt'), ['report (1).txt']);
    assert.deepEqual(await blobNamesOf('{a,b}.txt'), ['{a,b}.txt']);
  });

  test('$VAR and ${VAR} are expanded first; absolute paths inside the task directory are allowed', async () => {
    assert.deepEqual(await blobNamesOf('$AZ_BATCH_TASK_DIR/std*.txt'), ['stderr.txt', 'stdout.txt']);
    assert.deepEqual(await blobNamesOf('${OUT}/x.txt'), ['x.txt']);
    assert.deepEqual(await blobNamesOf(`${paths.workingDirectory}/a.txt`, 'A'), ['A']);
  });

  test('patterns that reach outside the task directory are refused', async () => {
    for (const pattern of ['../../other-task/secret.txt', '../../*/secret.txt', '/etc/passwd', '/etc/*', '/*', '../../../../../../../../etc/passwd']) {
      await assert.rejects(collectOutputFiles({ filePattern: pattern }, paths), OutputPatternError, pattern);
    }
  });
});

describe('expandVariables', () => {
  test('known names expand, unknown ones stay as written', () => {
    assert.equal(expandVariables('$OUT/${OUT}/$NOPE/${NOPE}/$EMPTY.', { OUT: 'o', EMPTY: '' }), 'o/o/$NOPE/${NOPE}/.');
    assert.equal(expandVariables('a$', {}), 'a$');
  });
});

describe('blobOptionsFromHeaders', () => {
  test('Put Blob headers map to blob properties, metadata and tags; others are reported', () => {
    const { options, ignored } = blobOptionsFromHeaders([
      { name: 'Content-Type', value: 'text/csv' },
      { name: 'content-encoding', value: 'gzip' },
      { name: 'x-ms-blob-content-language', value: 'en' },
      { name: 'Cache-Control', value: 'no-cache' },
      { name: 'Content-Disposition', value: 'attachment' },
      { name: 'x-ms-meta-Owner', value: 'lapis' },
      { name: 'x-ms-tags', value: 'a=1&b=two' },
      { name: 'X-Unknown', value: 'x' },
    ]);
    assert.deepEqual(options.blobHTTPHeaders, {
      blobContentType: 'text/csv',
      blobContentEncoding: 'gzip',
      blobContentLanguage: 'en',
      blobCacheControl: 'no-cache',
      blobContentDisposition: 'attachment',
    });
    assert.deepEqual(options.metadata, { Owner: 'lapis' });
    assert.deepEqual(options.tags, { a: '1', b: 'two' });
    assert.deepEqual(ignored, ['X-Unknown']);
  });
});

describe('shouldUpload', () => {
  test('tasksuccess, taskfailure, taskcompletion', () => {
    assert.equal(shouldUpload('tasksuccess', false), true);
    assert.equal(shouldUpload('tasksuccess', true), false);
    assert.equal(shouldUpload('taskfailure', false), false);
    assert.equal(shouldUpload('taskfailure', true), true);
    assert.equal(shouldUpload('taskcompletion', false), true);
    assert.equal(shouldUpload('taskcompletion', true), true);
  });
});
