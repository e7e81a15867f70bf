// A node's files as the Batch file API sees them, confined to the node's root
// directory. Every path is checked twice: lexically (no absolute paths, no
// `..`, no NUL or backslash) and, for what exists, after resolving symlinks,
// so a link a task planted cannot lead outside the root.

import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { batchErrors } from '../core/errors.js';
import type { ByteRange, NodeFileEntry, NodeFileSystem } from '../core/ports.js';

export class ConfinedNodeFiles implements NodeFileSystem {
  constructor(private readonly root: string) {}

  /** Maps a wire path to an absolute path inside the root, or throws FileNotFound. */
  private lexical(relative: string): string {
    const trimmed = relative.replace(/^\/+|\/+$/g, '');
    if (trimmed.includes('\0') || trimmed.includes('\\')) throw batchErrors.fileNotFound();
    const segments = trimmed.split('/').filter((segment) => segment !== '' && segment !== '.');
    if (segments.some((segment) => segment === '..')) throw batchErrors.fileNotFound();
    return path.join(this.root, ...segments);
  }

  /** Resolves symlinks and requires the result to stay inside the root; undefined if it does not exist. */
  private async confined(relative: string): Promise<string | undefined> {
    const candidate = this.lexical(relative);
    let real: string;
    try {
      real = await fs.realpath(candidate);
    } catch {
      return undefined;
    }
    const realRoot = await fs.realpath(this.root);
    const inside = path.relative(realRoot, real);
    if (inside.startsWith('..') || path.isAbsolute(inside)) throw batchErrors.fileNotFound();
    return real;
  }

  async stat(relative: string): Promise<NodeFileEntry | undefined> {
    const real = await this.confined(relative);
    if (!real) return undefined;
    return entryOf(path.basename(relative), await fs.stat(real));
  }

  async list(relative: string, recursive: boolean): Promise<NodeFileEntry[]> {
    const base = await this.confined(relative);
    if (!base) throw batchErrors.fileNotFound();
    const entries: NodeFileEntry[] = [];
    const walk = async (directory: string, prefix: string): Promise<void> => {
      const children = await fs.readdir(directory, { withFileTypes: true });
      for (const child of children.sort((a, b) => a.name.localeCompare(b.name))) {
        const full = path.join(directory, child.name);
        const name = prefix ? `${prefix}/${child.name}` : child.name;
        // lstat: a symlink is listed as itself and never followed.
        const stats = await fs.lstat(full);
        entries.push(entryOf(name, stats));
        if (recursive && stats.isDirectory()) await walk(full, name);
      }
    };
    await walk(base, '');
    return entries;
  }

  async read(relative: string, range?: ByteRange) {
    const real = await this.confined(relative);
    if (!real) throw batchErrors.fileNotFound();
    const stats = await fs.stat(real);
    if (stats.isDirectory()) throw batchErrors.fileNotFound();
    const entry = entryOf(path.basename(relative), stats);
    if (!range) return { entry, content: createReadStream(real), length: stats.size };
    if (range.start >= stats.size && stats.size > 0) throw batchErrors.invalidRange();
    const end = Math.min(range.end ?? stats.size - 1, stats.size - 1);
    if (end < range.start) return { entry, content: emptyContent(), length: 0 };
    return { entry, content: createReadStream(real, { start: range.start, end }), length: end - range.start + 1 };
  }

  async delete(relative: string, recursive: boolean): Promise<void> {
    const candidate = this.lexical(relative);
    // The entry itself is never followed: a symlink is removed, not its target.
    let stats;
    try {
      stats = await fs.lstat(candidate);
    } catch {
      throw batchErrors.fileNotFound();
    }
    const parent = await this.confined(path.relative(this.root, path.dirname(candidate)));
    if (!parent) throw batchErrors.fileNotFound();
    if (stats.isDirectory()) {
      if (!recursive && (await fs.readdir(candidate)).length > 0) throw batchErrors.directoryNotEmpty();
      await fs.rm(candidate, { recursive: true, force: true });
    } else {
      await fs.unlink(candidate);
    }
  }
}

async function* emptyContent(): AsyncIterable<Uint8Array> {}

function entryOf(name: string, stats: import('node:fs').Stats): NodeFileEntry {
  return {
    name,
    isDirectory: stats.isDirectory(),
    creationTime: stats.birthtime.getTime() > 0 ? stats.birthtime : stats.ctime,
    lastModified: stats.mtime,
    contentLength: stats.isDirectory() ? 0 : stats.size,
    fileMode: `0${stats.mode.toString(8)}`,
  };
}
