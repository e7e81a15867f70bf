// A node's files as the Batch file API sees them, confined to the node's root
// directory. A path is checked lexically (no absolute paths, no `..`, no NUL
// or backslash), then opened once from the node root without following any
// link (no-follow.ts): every directory on the way and the entry itself are
// opened through their parent's descriptor with O_NOFOLLOW, and the answer
// (type, size, content) comes from the opened descriptor. There is no check
// followed by a second open, so a task that swaps a directory for a link
// between two calls gets a FileNotFound, never a file outside its reach.
// Listing and deleting walk with directory descriptors the same way; a link
// is listed or deleted as itself and never descended into.

import type { Stats } from 'node:fs';
import path from 'node:path';
import { batchErrors } from '../core/errors.js';
import type { ByteRange, NodeFileEntry, NodeFileSystem } from '../core/ports.js';
import {
  lstatAt,
  openChildDirectory,
  openDirectory,
  openForRead,
  openTrustedDirectory,
  readDirectory,
  removeEntry,
  type DirectoryHandle,
} from './no-follow.js';

/** What an open that failed because the path is not there (or not what it was) raises. */
const NOT_THERE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES', 'ENXIO', 'EINVAL', 'ENAMETOOLONG']);

function notThere(error: unknown): boolean {
  return NOT_THERE.has((error as NodeJS.ErrnoException).code ?? '');
}

export class ConfinedNodeFiles implements NodeFileSystem {
  constructor(private readonly root: string) {}

  /** The wire path's components under the root, or FileNotFound. */
  private lexical(relative: string): string[] {
    const trimmed = relative.replace(/^\/+|\/+$/g, '');
    if (trimmed.includes('\0') || trimmed.includes('\\')) throw batchErrors.fileNotFound();
    const segments = trimmed.split('/').filter((segment) => segment !== '' && segment !== '.');
    if (segments.some((segment) => segment === '..')) throw batchErrors.fileNotFound();
    return segments;
  }

  /** Opens the entry (file or directory) without following links; undefined if it is not there. */
  private async open(segments: string[]): Promise<{ handle: import('node:fs/promises').FileHandle; stats: Stats } | undefined> {
    const name = segments.at(-1);
    try {
      if (name === undefined) {
        const root = await openTrustedDirectory(this.root);
        return { handle: root.handle, stats: await root.stat() };
      }
      const parent = await openDirectory(this.root, segments.slice(0, -1));
      try {
        return await openForRead(parent, name);
      } finally {
        await parent.close();
      }
    } catch (error) {
      if (notThere(error)) return undefined;
      throw error;
    }
  }

  async stat(relative: string): Promise<NodeFileEntry | undefined> {
    const segments = this.lexical(relative);
    const opened = await this.open(segments);
    if (!opened) return undefined;
    await opened.handle.close().catch(() => undefined);
    return entryOf(path.basename(relative), opened.stats);
  }

  async list(relative: string, recursive: boolean): Promise<NodeFileEntry[]> {
    const segments = this.lexical(relative);
    let base: DirectoryHandle;
    try {
      base = await openDirectory(this.root, segments);
    } catch (error) {
      if (notThere(error)) throw batchErrors.fileNotFound();
      throw error;
    }
    const entries: NodeFileEntry[] = [];
    const walk = async (directory: DirectoryHandle, prefix: string): Promise<void> => {
      const children = await readDirectory(directory);
      for (const child of children.sort((a, b) => a.name.localeCompare(b.name))) {
        const name = prefix ? `${prefix}/${child.name}` : child.name;
        // lstat: a symlink is listed as itself and never followed.
        let stats: Stats;
        try {
          stats = await lstatAt(directory, child.name);
        } catch (error) {
          if (notThere(error)) continue;
          throw error;
        }
        entries.push(entryOf(name, stats));
        if (!recursive || !stats.isDirectory()) continue;
        // Opened without following: a directory swapped for a link since the lstat is not descended into.
        let opened: DirectoryHandle;
        try {
          opened = await openChildDirectory(directory, child.name);
        } catch (error) {
          if (notThere(error)) continue;
          throw error;
        }
        try {
          await walk(opened, name);
        } finally {
          await opened.close();
        }
      }
    };
    try {
      await walk(base, '');
    } finally {
      await base.close();
    }
    return entries;
  }

  async read(relative: string, range?: ByteRange) {
    const opened = await this.open(this.lexical(relative));
    if (!opened) throw batchErrors.fileNotFound();
    const { handle, stats } = opened;
    try {
      if (!stats.isFile()) throw batchErrors.fileNotFound();
      const entry = entryOf(path.basename(relative), stats);
      if (range && range.start >= stats.size && stats.size > 0) throw batchErrors.invalidRange();
      // Bounded by the size the answer announces: a file that grows meanwhile cannot overrun its Content-Length.
      const start = range?.start ?? 0;
      const end = Math.min(range?.end ?? stats.size - 1, stats.size - 1);
      if (end < start) {
        await handle.close();
        return { entry, content: emptyContent(), length: 0 };
      }
      return { entry, content: handle.createReadStream({ start, end }), length: end - start + 1 };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  async delete(relative: string, recursive: boolean): Promise<void> {
    const segments = this.lexical(relative);
    const name = segments.at(-1);
    // The node root itself is not deleted through the file API.
    if (name === undefined) throw batchErrors.fileNotFound();
    let parent: DirectoryHandle;
    try {
      parent = await openDirectory(this.root, segments.slice(0, -1));
    } catch (error) {
      if (notThere(error)) throw batchErrors.fileNotFound();
      throw error;
    }
    try {
      // Through the parent's descriptor: a symlink is removed, never its target, and never descended into.
      await removeEntry(parent, name, recursive);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw batchErrors.directoryNotEmpty();
      if (notThere(error)) throw batchErrors.fileNotFound();
      throw error;
    } finally {
      await parent.close();
    }
  }
}

async function* emptyContent(): AsyncIterable<Uint8Array> {}

function entryOf(name: string, stats: Stats): NodeFileEntry {
  return {
    name,
    isDirectory: stats.isDirectory(),
    creationTime: stats.birthtime.getTime() > 0 ? stats.birthtime : stats.ctime,
    lastModified: stats.mtime,
    contentLength: stats.isDirectory() ? 0 : stats.size,
    fileMode: `0${stats.mode.toString(8)}`,
  };
}
