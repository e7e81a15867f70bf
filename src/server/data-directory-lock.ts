// One server per data directory. Two servers on one directory would each keep
// their own view of the blobs (Azurite holds its metadata in memory) and lose
// uploads, so a server holds an exclusive lock on `lapis.lock` for its life.
//
// The lock is SQLite's own file lock (BEGIN EXCLUSIVE on a database of its
// own, through better-sqlite3, already Lapis's store library) rather than a
// pid file checked for liveness: the kernel drops it when the process dies,
// however it dies, so a crashed server never leaves a stale lock, a reused
// pid never looks like a live server, and two servers taking over a stale
// lock at once cannot both win. SQLite also refuses a second connection of
// the same process, so two in-process servers (tests) are refused too.
// The holder's pid is written beside it (`lapis.pid`) only to name it in the
// error: the lock, not that file, decides.

import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

export interface DataDirectoryLock {
  release(): void;
}

function holderPid(pidFile: string): string | undefined {
  try {
    const pid = fs.readFileSync(pidFile, 'utf8').trim();
    return /^\d+$/.test(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the data directory's lock, or throws naming the server that holds it. */
export function lockDataDirectory(dataDir: string): DataDirectoryLock {
  const lockFile = path.join(dataDir, 'lapis.lock');
  const pidFile = path.join(dataDir, 'lapis.pid');
  // timeout 0: a held lock is refused at once, not waited for.
  const db = new Database(lockFile, { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    const pid = holderPid(pidFile);
    throw new Error(
      `Another Lapis server${pid ? ` (pid ${pid})` : ''} is using the data directory ${dataDir}: stop it, or give this one a directory of its own with --data <dir>.`,
    );
  }
  fs.writeFileSync(`${pidFile}.${process.pid}`, `${process.pid}\n`, { mode: 0o644 });
  fs.renameSync(`${pidFile}.${process.pid}`, pidFile);
  return {
    release() {
      if (!db.open) return;
      if (holderPid(pidFile) === String(process.pid)) fs.rmSync(pidFile, { force: true });
      db.close();
    },
  };
}
