// File work the agent does as root in directories its tasks can write,
// without ever following a link a task could have planted there.
//
// Node has no openat(), but Linux has /proc/self/fd: a trusted base (the
// node root, root-owned all the way up) is opened as a directory descriptor,
// and each further component is opened as `/proc/self/fd/<parent>/<name>`
// with O_NOFOLLOW. The magic link resolves to the directory already open,
// not by walking a path again, and O_NOFOLLOW makes a symlink at `<name>`
// fail (ELOOP) instead of being followed. So every component of every path
// is checked at the moment it is used, and what is created, written,
// chmod'ed, chown'ed or read is the descriptor that was opened:
//
//   - files are created with O_CREAT|O_EXCL|O_NOFOLLOW under a fresh name and
//     renamed over the target, so a planted link is replaced, never written
//     through; fchmod/fchown act on the descriptor;
//   - mkdir, unlink, rmdir and rename never follow a final link;
//   - a recursive removal opens each directory with O_NOFOLLOW|O_DIRECTORY,
//     so one swapped for a link is unlinked, not descended into.
//
// Without /proc (not Linux) the same calls fall back to full paths: every
// final component is still opened without following, but an intermediate
// directory swapped for a link between two calls is not detected.

import { closeSync, constants, existsSync, fchownSync, mkdirSync, openSync, type Dirent, type Stats } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';

const { O_RDONLY, O_WRONLY, O_DIRECTORY, O_NOFOLLOW, O_CREAT, O_EXCL, O_APPEND, O_NONBLOCK } = constants;
const PROC_FD = existsSync('/proc/self/fd');

export interface FileOwner {
  uid: number;
  gid: number;
}

/** An open directory: names inside it are reached through its descriptor. */
export class DirectoryHandle {
  constructor(
    readonly handle: FileHandle,
    /** For messages, and the fallback without /proc. */
    readonly path: string,
  ) {}

  /** A path naming `name` inside this very directory (never re-walked from the root). */
  at(name: string): string {
    return pathAt(this.handle.fd, this.path, name);
  }

  /** A path naming the directory itself. */
  self(): string {
    return PROC_FD ? `/proc/self/fd/${this.handle.fd}` : this.path;
  }

  stat(): Promise<Stats> {
    return this.handle.stat();
  }

  close(): Promise<void> {
    return this.handle.close().catch(() => undefined);
  }
}

function pathAt(descriptor: number, directoryPath: string, name: string): string {
  checkName(name);
  return PROC_FD ? `/proc/self/fd/${descriptor}/${name}` : path.join(directoryPath, name);
}

function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw Object.assign(new Error(`'${name}' is not a single path component`), { code: 'EINVAL' });
  }
}

/** The components of `target` below `base`; throws (EINVAL) for a path outside it. */
export function componentsUnder(base: string, target: string): string[] {
  const relative = path.relative(path.resolve(base), path.resolve(target));
  if (relative === '') return [];
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw Object.assign(new Error(`'${target}' is not inside '${base}'`), { code: 'EINVAL' });
  }
  return relative.split(path.sep);
}

/** Opens a trusted directory (no part of its path is writable by a task) by its path. */
export async function openTrustedDirectory(directory: string): Promise<DirectoryHandle> {
  return new DirectoryHandle(await fs.open(directory, O_RDONLY | O_DIRECTORY), directory);
}

export interface CreateOptions {
  /** For directories this call creates (before the umask; default 0777, as mkdir). */
  mode?: number;
  /** Directories this call creates are given to this owner. */
  owner?: FileOwner;
}

/**
 * Opens `name` inside `parent` as a directory, never following a link;
 * with `create`, makes it first when it is missing.
 */
export async function openChildDirectory(parent: DirectoryHandle, name: string, create?: CreateOptions): Promise<DirectoryHandle> {
  const target = parent.at(name);
  const childPath = path.join(parent.path, name);
  try {
    return new DirectoryHandle(await fs.open(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW), childPath);
  } catch (error) {
    if (!create || (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  let created = true;
  // mkdir never follows a final link: a link planted meanwhile makes it fail with EEXIST.
  await fs.mkdir(target, { mode: create.mode ?? 0o777 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
    created = false;
  });
  const child = new DirectoryHandle(await fs.open(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW), childPath);
  try {
    if (created && create.owner) await child.handle.chown(create.owner.uid, create.owner.gid);
  } catch (error) {
    await child.close();
    throw error;
  }
  return child;
}

/**
 * Opens `name` inside `parent` as a directory, made when missing; a link or
 * file standing in its place is unlinked first (its target never touched).
 * For the directories a node's agent owns, which its admin tasks can tamper with.
 */
export async function openOrReplaceDirectory(parent: DirectoryHandle, name: string, create: CreateOptions = {}): Promise<DirectoryHandle> {
  try {
    return await openChildDirectory(parent, name, create);
  } catch (error) {
    if (!['ELOOP', 'ENOTDIR', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
  }
  await fs.unlink(parent.at(name));
  return openChildDirectory(parent, name, create);
}

/**
 * Opens `base/components…` as a directory: `base` is trusted, and every
 * component below it is opened without following links. With `create`,
 * missing components are made.
 */
export async function openDirectory(base: string, components: readonly string[], create?: CreateOptions): Promise<DirectoryHandle> {
  let current = await openTrustedDirectory(base);
  try {
    for (const name of components) {
      const next = await openChildDirectory(current, name, create);
      await current.close();
      current = next;
    }
    return current;
  } catch (error) {
    await current.close();
    throw error;
  }
}

/** Runs `work` with the directory `base/components…` open (see openDirectory), and closes it. */
export async function withDirectory<T>(base: string, components: readonly string[], work: (directory: DirectoryHandle) => Promise<T>, create?: CreateOptions): Promise<T> {
  const directory = await openDirectory(base, components, create);
  try {
    return await work(directory);
  } finally {
    await directory.close();
  }
}

export interface WriteOptions {
  mode: number;
  owner?: FileOwner;
}

/**
 * Writes `name` inside `directory` as a new file: the content goes to a fresh
 * name (O_EXCL|O_NOFOLLOW), gets its mode and owner through the descriptor,
 * and is renamed over `name`. Whatever was there (a file, a planted link) is
 * replaced, never written through.
 */
export async function writeFileReplacing(
  directory: DirectoryHandle,
  name: string,
  content: Buffer | string | Readable | NodeJS.ReadableStream,
  options: WriteOptions,
): Promise<void> {
  checkName(name);
  const temporary = `.${name.slice(0, 100)}.lapis-${randomBytes(8).toString('hex')}`;
  const handle = await fs.open(directory.at(temporary), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  let renamed = false;
  try {
    if (typeof content === 'string' || Buffer.isBuffer(content)) await handle.writeFile(content);
    else for await (const chunk of content) await handle.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    await handle.chmod(options.mode);
    if (options.owner) await handle.chown(options.owner.uid, options.owner.gid);
    await fs.rename(directory.at(temporary), directory.at(name));
    renamed = true;
  } finally {
    await handle.close().catch(() => undefined);
    if (!renamed) await fs.unlink(directory.at(temporary)).catch(() => undefined);
  }
}

/**
 * Opens `name` inside `directory` for appending, creating it if missing,
 * never through a link; refuses anything but a regular file with one link
 * (a FIFO, a device, a hard link to some other file).
 */
export async function openForAppend(directory: DirectoryHandle, name: string, mode = 0o644): Promise<FileHandle> {
  const handle = await fs.open(directory.at(name), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, mode);
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || stats.nlink !== 1) {
      throw Object.assign(new Error(`'${path.join(directory.path, name)}' is not a plain file`), { code: 'EPERM' });
    }
    return handle;
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** Opens `name` inside `directory` for reading without following a link (a directory opens too), with its fstat. */
export async function openForRead(directory: DirectoryHandle, name: string): Promise<{ handle: FileHandle; stats: Stats }> {
  // O_NONBLOCK: a FIFO swapped in cannot hang the agent.
  const handle = await fs.open(directory.at(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    return { handle, stats: await handle.stat() };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** The entries of an open directory, with the types lstat gives (a link is a link). */
export async function readDirectory(directory: DirectoryHandle): Promise<Dirent[]> {
  return fs.readdir(directory.self(), { withFileTypes: true });
}

/** lstat of `name` inside `directory`: a link is described as itself. */
export async function lstatAt(directory: DirectoryHandle, name: string): Promise<Stats> {
  return fs.lstat(directory.at(name));
}

/**
 * Removes `name` from `directory`: a file or link is unlinked (a link's
 * target is never touched); a directory is removed with everything in it
 * when `recursive`, else only when empty (ENOTEMPTY otherwise). Every
 * directory is opened without following links, so one swapped for a link
 * midway is unlinked, never descended into.
 */
export async function removeEntry(directory: DirectoryHandle, name: string, recursive: boolean): Promise<void> {
  const stats = await lstatAt(directory, name);
  if (!stats.isDirectory()) {
    await fs.unlink(directory.at(name));
    return;
  }
  if (recursive) await emptyDirectory(directory, name);
  await fs.rmdir(directory.at(name));
}

async function emptyDirectory(parent: DirectoryHandle, name: string): Promise<void> {
  let child: DirectoryHandle;
  try {
    child = await openChildDirectory(parent, name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Swapped for a link or a file since it was seen: the caller's rmdir fails on it, nothing is followed.
    if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') return;
    throw error;
  }
  try {
    for (const entry of await readDirectory(child)) {
      try {
        if (entry.isDirectory()) {
          await emptyDirectory(child, entry.name);
          await fs.rmdir(child.at(entry.name));
        } else {
          await fs.unlink(child.at(entry.name));
        }
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue;
        // It changed kind meanwhile (a directory became a link, or back): look again.
        if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'ELOOP') await removeEntry(child, entry.name, true).catch(ignoreMissing);
        else throw error;
      }
    }
  } finally {
    await child.close();
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}

/** Removes `base/components…` (the last component, as removeEntry does), walking from the trusted `base`. */
export async function removePath(base: string, components: readonly string[], recursive: boolean): Promise<void> {
  const parentComponents = components.slice(0, -1);
  const name = components.at(-1);
  if (name === undefined) throw Object.assign(new Error('the base itself cannot be removed this way'), { code: 'EINVAL' });
  await withDirectory(base, parentComponents, (parent) => removeEntry(parent, name, recursive));
}

/**
 * Makes a task's directory `name` inside the trusted directory `parent`
 * (made by path when missing: its components are the agent's alone) and
 * `wd` inside it, as openChildDirectory would, given `owner`: `wd`, and with
 * `shareTaskDirectory` the task directory too (a multi-instance task's
 * AZ_BATCH_TASK_SHARED_DIR). Synchronous, on purpose: it runs for every task,
 * its nine calls take microseconds each, and a thread-pool round trip per
 * call (as the promise API makes) costs the agent more CPU than the calls.
 * Each directory is made first and then opened without following a link (a
 * new task's are missing: one call fewer than open, fail, make, open); a link
 * standing in the place of one makes mkdir fail with EEXIST and the open with
 * ELOOP, never followed.
 */
export function makeTaskDirectories(parent: string, name: string, owner?: FileOwner, shareTaskDirectory = false): void {
  let parentDescriptor: number;
  try {
    parentDescriptor = openSync(parent, O_RDONLY | O_DIRECTORY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(parent, { recursive: true });
    parentDescriptor = openSync(parent, O_RDONLY | O_DIRECTORY);
  }
  let task: number;
  try {
    task = makeChildDirectorySync(parentDescriptor, parent, name);
  } finally {
    closeSync(parentDescriptor);
  }
  try {
    const wd = makeChildDirectorySync(task, path.join(parent, name), 'wd');
    try {
      if (owner) fchownSync(wd, owner.uid, owner.gid);
    } finally {
      closeSync(wd);
    }
    if (owner && shareTaskDirectory) fchownSync(task, owner.uid, owner.gid);
  } finally {
    closeSync(task);
  }
}

function makeChildDirectorySync(parent: number, parentPath: string, name: string): number {
  const target = pathAt(parent, parentPath, name);
  try {
    mkdirSync(target, { mode: 0o777 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return openSync(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
}
