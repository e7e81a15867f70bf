// The agent's no-follow file helpers (no-follow.ts, and the launcher's
// no-follow-open.mjs): a symlink at the final or at an intermediate
// component is never followed — creating, writing, chmod, chown, reading,
// appending and deleting refuse it or replace the link itself, and the
// link's target stays as it was; ordinary paths work; a recursive delete
// never descends into a link to a directory.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { openAppendAllNoFollow, openAppendNoFollow } from '../../src/agent/no-follow-open.mjs';
import {
  componentsUnder,
  makeTaskDirectories,
  openChildDirectory,
  openDirectory,
  openForAppend,
  openForRead,
  removeEntry,
  removePath,
  withDirectory,
  writeFileReplacing,
} from '../../src/agent/no-follow.js';

const ROOT = process.getuid?.() === 0;
const OTHER = { uid: 65534, gid: 65534 };

let scratch: string;
/** Outside the base: what links point to. */
let victimDirectory: string;
let victimFile: string;
/** The trusted base the helpers start from. */
let base: string;
let cases = 0;

before(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-no-follow-'));
  victimDirectory = path.join(scratch, 'victim');
  fs.mkdirSync(victimDirectory, { mode: 0o700 });
  victimFile = path.join(victimDirectory, 'secret.txt');
  base = path.join(scratch, 'base');
  fs.mkdirSync(base);
});

after(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** A fresh directory under the base (its name) with a victim file of known content, mode and owner. */
function setup(): { name: string; directory: string } {
  fs.writeFileSync(victimFile, 'victim content');
  fs.chmodSync(victimFile, 0o600);
  const name = `case${cases++}`;
  const directory = path.join(base, name);
  fs.mkdirSync(directory);
  return { name, directory };
}

function assertVictimUnchanged(): void {
  const stats = fs.statSync(victimFile);
  assert.equal(fs.readFileSync(victimFile, 'utf8'), 'victim content');
  assert.equal(stats.mode & 0o7777, 0o600);
  assert.equal(stats.uid, process.getuid?.() ?? stats.uid);
  assert.deepEqual(fs.readdirSync(victimDirectory), ['secret.txt']);
}

const refusedCodes = new Set(['ELOOP', 'ENOTDIR', 'EEXIST', 'EPERM', 'ENXIO']);
function refused(error: unknown): boolean {
  return refusedCodes.has((error as NodeJS.ErrnoException).code ?? '');
}

describe('writing', () => {
  test('a file written over a link to a root-only file replaces the link; mode and owner go to the new file', async () => {
    const { name, directory } = setup();
    fs.symlinkSync(victimFile, path.join(directory, 'file.txt'));
    await withDirectory(base, [name], (dir) => writeFileReplacing(dir, 'file.txt', 'downloaded', { mode: 0o640, owner: ROOT ? OTHER : undefined }));
    const stats = fs.lstatSync(path.join(directory, 'file.txt'));
    assert.ok(stats.isFile(), 'the link was replaced by a regular file');
    assert.equal(fs.readFileSync(path.join(directory, 'file.txt'), 'utf8'), 'downloaded');
    assert.equal(stats.mode & 0o7777, 0o640);
    if (ROOT) assert.equal(stats.uid, OTHER.uid);
    assertVictimUnchanged();
    assert.deepEqual(fs.readdirSync(directory), ['file.txt'], 'no temporary file is left');
  });

  test('a streamed write over an existing file replaces it', async () => {
    const { name, directory } = setup();
    fs.writeFileSync(path.join(directory, 'file.txt'), 'old');
    await withDirectory(base, [name], (dir) => writeFileReplacing(dir, 'file.txt', Readable.from([Buffer.from('new '), Buffer.from('content')]), { mode: 0o600 }));
    assert.equal(fs.readFileSync(path.join(directory, 'file.txt'), 'utf8'), 'new content');
  });

  test('a link at an intermediate component is refused, with or without create, and nothing is made behind it', async () => {
    const { name, directory } = setup();
    fs.symlinkSync(victimDirectory, path.join(directory, 'sub'));
    await assert.rejects(withDirectory(base, [name, 'sub'], (dir) => writeFileReplacing(dir, 'x.txt', 'x', { mode: 0o644 })), refused);
    await assert.rejects(withDirectory(base, [name, 'sub', 'deeper'], (dir) => writeFileReplacing(dir, 'x.txt', 'x', { mode: 0o644 }), { owner: ROOT ? OTHER : undefined }), refused);
    assertVictimUnchanged();
    assert.equal(fs.statSync(victimDirectory).uid, process.getuid?.());
    assert.equal(fs.statSync(victimDirectory).mode & 0o7777, 0o700);
  });

  test('a link at the base\'s first component is refused too', async () => {
    const { name } = setup();
    const linked = `${name}-link`;
    fs.symlinkSync(victimDirectory, path.join(base, linked));
    await assert.rejects(openDirectory(base, [linked]), refused);
    await assert.rejects(openDirectory(base, [linked], {}), refused);
    assertVictimUnchanged();
  });

  test('missing directories are made, and given to the owner; existing ones keep theirs', async () => {
    const { name, directory } = setup();
    await withDirectory(base, [name, 'a', 'b'], (dir) => writeFileReplacing(dir, 'f', 'f', { mode: 0o644 }), { owner: ROOT ? OTHER : undefined });
    assert.equal(fs.readFileSync(path.join(directory, 'a', 'b', 'f'), 'utf8'), 'f');
    if (ROOT) {
      assert.equal(fs.statSync(path.join(directory, 'a')).uid, OTHER.uid);
      assert.equal(fs.statSync(path.join(directory, 'a', 'b')).uid, OTHER.uid);
      assert.equal(fs.statSync(directory).uid, 0);
    }
  });

  test('a directory made where a link was planted is refused, and the link target keeps its owner and mode', async () => {
    const { name, directory } = setup();
    fs.symlinkSync(victimDirectory, path.join(directory, 'certs'));
    await assert.rejects(
      withDirectory(base, [name], async (dir) => {
        const child = await openChildDirectory(dir, 'certs', { mode: 0o700, owner: ROOT ? OTHER : undefined });
        await child.close();
      }),
      refused,
    );
    assert.equal(fs.statSync(victimDirectory).uid, process.getuid?.());
    assertVictimUnchanged();
  });

  test('paths outside the base are refused', () => {
    assert.throws(() => componentsUnder(base, path.join(base, '..', 'elsewhere')), /not inside/);
    assert.throws(() => componentsUnder(base, '/etc/passwd'), /not inside/);
    assert.deepEqual(componentsUnder(base, path.join(base, 'a', 'b')), ['a', 'b']);
    assert.deepEqual(componentsUnder(base, base), []);
  });
});

describe('a task\'s directories (makeTaskDirectories)', () => {
  test('a new task gets its directory and wd (wd given to the owner), under a parent made when missing; a retry reuses them', () => {
    const { directory } = setup();
    const parent = path.join(directory, 'job', 'tasks');
    makeTaskDirectories(parent, 'task1', ROOT ? OTHER : undefined);
    assert.ok(fs.statSync(path.join(parent, 'task1', 'wd')).isDirectory());
    if (ROOT) {
      assert.equal(fs.statSync(path.join(parent, 'task1', 'wd')).uid, OTHER.uid);
      assert.equal(fs.statSync(path.join(parent, 'task1')).uid, 0, 'the task directory stays root\'s unless shared');
    }
    fs.writeFileSync(path.join(parent, 'task1', 'wd', 'left.txt'), 'from the first attempt');
    makeTaskDirectories(parent, 'task1', ROOT ? OTHER : undefined, true);
    assert.equal(fs.readFileSync(path.join(parent, 'task1', 'wd', 'left.txt'), 'utf8'), 'from the first attempt');
    if (ROOT) assert.equal(fs.statSync(path.join(parent, 'task1')).uid, OTHER.uid, 'a shared task directory is the owner\'s');
  });

  test('a link planted at wd or at the task directory is refused, and its target keeps its owner and mode', () => {
    const { directory } = setup();
    fs.mkdirSync(path.join(directory, 'task1'));
    fs.symlinkSync(victimDirectory, path.join(directory, 'task1', 'wd'));
    assert.throws(() => makeTaskDirectories(directory, 'task1', ROOT ? OTHER : undefined), refused);
    fs.symlinkSync(victimDirectory, path.join(directory, 'task2'));
    assert.throws(() => makeTaskDirectories(directory, 'task2', ROOT ? OTHER : undefined, true), refused);
    assert.equal(fs.statSync(victimDirectory).uid, process.getuid?.());
    assert.equal(fs.statSync(victimDirectory).mode & 0o7777, 0o700);
    assertVictimUnchanged();
  });
});

describe('appending (upload logs, and the launcher\'s stdout and stderr)', () => {
  test('a link at the file is refused; the victim is unchanged', async () => {
    const { name, directory } = setup();
    fs.symlinkSync(victimFile, path.join(directory, 'stdout.txt'));
    await assert.rejects(withDirectory(base, [name], (dir) => openForAppend(dir, 'stdout.txt')), refused);
    assert.throws(() => openAppendNoFollow(base, path.join(directory, 'stdout.txt')), refused);
    assertVictimUnchanged();
  });

  test('a link at an intermediate directory is refused', async () => {
    const { name, directory } = setup();
    fs.symlinkSync(victimDirectory, path.join(directory, 'task'));
    assert.throws(() => openAppendNoFollow(base, path.join(directory, 'task', 'secret.txt')), refused);
    await assert.rejects(withDirectory(base, [name, 'task'], (dir) => openForAppend(dir, 'secret.txt')), refused);
    assertVictimUnchanged();
  });

  test('a FIFO or a hard link to another file is refused without blocking', async () => {
    const { name, directory } = setup();
    execFileSync('mkfifo', [path.join(directory, 'fifo')]);
    fs.writeFileSync(path.join(directory, 'original'), 'original');
    fs.linkSync(path.join(directory, 'original'), path.join(directory, 'hard'));
    for (const file of ['fifo', 'hard']) {
      assert.throws(() => openAppendNoFollow(base, path.join(directory, file)), refused, file);
      await assert.rejects(withDirectory(base, [name], (dir) => openForAppend(dir, file)), refused, file);
    }
    assert.equal(fs.readFileSync(path.join(directory, 'original'), 'utf8'), 'original');
  });

  test("a run's stdout and stderr are opened together, or neither: a link at the second refuses both and leaves no descriptor open", () => {
    const { directory } = setup();
    fs.symlinkSync(victimFile, path.join(directory, 'stderr.txt'));
    const open = () => fs.readdirSync('/proc/self/fd').length;
    const before = open();
    assert.throws(() => openAppendAllNoFollow(base, [path.join(directory, 'stdout.txt'), path.join(directory, 'stderr.txt')]), refused);
    assert.equal(open(), before);
    assertVictimUnchanged();
    fs.unlinkSync(path.join(directory, 'stderr.txt'));
    const [stdout, stderr] = openAppendAllNoFollow(base, [path.join(directory, 'stdout.txt'), path.join(directory, 'stderr.txt')]);
    fs.writeSync(stdout as number, 'out');
    fs.writeSync(stderr as number, 'err');
    fs.closeSync(stdout as number);
    fs.closeSync(stderr as number);
    assert.deepEqual([fs.readFileSync(path.join(directory, 'stdout.txt'), 'utf8'), fs.readFileSync(path.join(directory, 'stderr.txt'), 'utf8')], ['out', 'err']);
  });

  test('an ordinary path is created and appended to', async () => {
    const { name, directory } = setup();
    const descriptor = openAppendNoFollow(base, path.join(directory, 'stdout.txt'));
    fs.writeSync(descriptor, 'one\n');
    fs.closeSync(descriptor);
    const again = openAppendNoFollow(base, path.join(directory, 'stdout.txt'));
    fs.writeSync(again, 'two\n');
    fs.closeSync(again);
    const handle = await withDirectory(base, [name], (dir) => openForAppend(dir, 'stdout.txt'));
    await handle.appendFile('three\n');
    await handle.close();
    assert.equal(fs.readFileSync(path.join(directory, 'stdout.txt'), 'utf8'), 'one\ntwo\nthree\n');
    assert.throws(() => openAppendNoFollow(base, '/etc/passwd'), /not inside/);
  });
});

describe('reading', () => {
  test('a link at the file or on the way is refused; a file and a directory open with their fstat', async () => {
    const { name, directory } = setup();
    fs.symlinkSync(victimFile, path.join(directory, 'leak'));
    fs.symlinkSync(victimDirectory, path.join(directory, 'outdir'));
    fs.writeFileSync(path.join(directory, 'plain.txt'), 'plain');
    await assert.rejects(withDirectory(base, [name], (dir) => openForRead(dir, 'leak')), refused);
    await assert.rejects(withDirectory(base, [name, 'outdir'], (dir) => openForRead(dir, 'secret.txt')), refused);
    const { handle, stats } = await withDirectory(base, [name], (dir) => openForRead(dir, 'plain.txt'));
    assert.equal(stats.size, 5);
    assert.equal(await handle.readFile('utf8'), 'plain');
    await handle.close();
    const opened = await withDirectory(base, [], (dir) => openForRead(dir, name));
    assert.ok(opened.stats.isDirectory());
    await opened.handle.close();
  });
});

describe('deleting', () => {
  test('a link is removed itself, never its target', async () => {
    const { name, directory } = setup();
    fs.symlinkSync(victimFile, path.join(directory, 'leak'));
    fs.symlinkSync(victimDirectory, path.join(directory, 'outdir'));
    await withDirectory(base, [name], (dir) => removeEntry(dir, 'leak', false));
    await withDirectory(base, [name], (dir) => removeEntry(dir, 'outdir', true));
    assert.deepEqual(fs.readdirSync(directory), []);
    assertVictimUnchanged();
  });

  test('a recursive delete removes a tree but does not descend into a link to a directory', async () => {
    const { name, directory } = setup();
    fs.mkdirSync(path.join(directory, 'tree', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(directory, 'tree', 'deep', 'f'), 'f');
    fs.symlinkSync(victimDirectory, path.join(directory, 'tree', 'deep', 'outdir'));
    fs.symlinkSync(victimFile, path.join(directory, 'tree', 'leak'));
    await removePath(base, [name, 'tree'], true);
    assert.deepEqual(fs.readdirSync(directory), []);
    assertVictimUnchanged();
  });

  test('a non-empty directory needs recursive; a link on the way is refused', async () => {
    const { name, directory } = setup();
    fs.mkdirSync(path.join(directory, 'full'));
    fs.writeFileSync(path.join(directory, 'full', 'f'), 'f');
    await assert.rejects(removePath(base, [name, 'full'], false), { code: 'ENOTEMPTY' });
    assert.ok(fs.existsSync(path.join(directory, 'full', 'f')));
    fs.symlinkSync(victimDirectory, path.join(directory, 'outdir'));
    await assert.rejects(removePath(base, [name, 'outdir', 'secret.txt'], false), refused);
    await assert.rejects(removePath(base, [name, 'outdir', 'secret.txt'], true), refused);
    assertVictimUnchanged();
  });
});
