// The data directory (--data): made, locked (data-directory-lock.ts) and
// checked before anything is stored in it. Every failure names --data, since
// that is what the operator changes; raw errno text alone does not say so.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lockDataDirectory, type DataDirectoryLock } from './data-directory-lock.js';

export interface DataDirectory {
  path: string;
  /** A directory of this start's own (--in-memory): removed at stop. */
  temporary: boolean;
  /** Made by this start: a start that fails removes it again. */
  created: boolean;
  lock?: DataDirectoryLock;
}

/** An errno error from the data directory, with the flag that moves it. */
export function dataDirectoryError(dataDir: string, error: unknown): Error {
  const errno = error as NodeJS.ErrnoException;
  // Lapis's own errors (the lock, the nodes directory's reach) already say what to change.
  if (typeof errno.code !== 'string') return error as Error;
  return new Error(`The data directory ${dataDir} cannot be used (${errno.message}): give another with --data <dir> (or LAPIS_DATA), or fix its permissions.`);
}

/**
 * Makes the data directory (or a temporary one for --in-memory) and takes
 * its lock. Whether tasks can reach it decides where their nodes go
 * (nodes-directory.ts).
 */
export function prepareDataDirectory(dataDir: string | undefined, inMemory: boolean): DataDirectory {
  if (inMemory || !dataDir) return { path: fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-')), temporary: true, created: true };
  const resolved = path.resolve(dataDir);
  const created = !fs.existsSync(resolved);
  try {
    fs.mkdirSync(resolved, { recursive: true });
    // Tasks (as an unprivileged user) may pass through to their node directories, but not list or read the rest.
    fs.chmodSync(resolved, 0o711);
  } catch (error) {
    throw dataDirectoryError(resolved, error);
  }
  const directory: DataDirectory = { path: resolved, temporary: false, created };
  try {
    directory.lock = lockDataDirectory(resolved);
    return directory;
  } catch (error) {
    abandonDataDirectory(directory);
    throw dataDirectoryError(resolved, error);
  }
}

/** After a failed start: the lock goes, and so does a directory this start made (or a temporary one). */
export function abandonDataDirectory(directory: DataDirectory): void {
  directory.lock?.release();
  if (directory.created) fs.rmSync(directory.path, { recursive: true, force: true });
}
