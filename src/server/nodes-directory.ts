// Where the compute nodes' directories go (--nodes-dir). Tasks open their
// files by full path (`$AZ_BATCH_TASK_WORKING_DIR/...`, the shared and
// startup directories), so as root, where tasks run as users of their own,
// every directory above a node's must let other users pass through. By
// default the nodes live in `<data>/nodes`; when --data sits under a directory
// that shuts other users out (`/root`, a `mktemp -d`), they go to a directory
// of Lapis's own instead, `/var/lib/lapis/nodes/<digest of the data
// directory's path>`: the same on every start with that data directory, so
// nodes' recorded outcomes and users are found again after a restart. Modes
// are never loosened on directories Lapis did not make: where no placement is
// reachable, the start is refused naming the flag that moves it.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The parent of the nodes directories Lapis places outside unreachable data directories. */
export const OWN_NODES_ROOT = '/var/lib/lapis/nodes';

export interface NodesDirectory {
  path: string;
  /** Made by this start outside the data directory: a temporary data directory's is removed with it. */
  outside: boolean;
}

/** The first directory from `directory` up to `/` that lets no other user pass through, or undefined. */
export function closedAncestor(directory: string): { directory: string; mode: number } | undefined {
  for (let current = directory; ; current = path.dirname(current)) {
    const mode = fs.statSync(current).mode & 0o777;
    if ((mode & 0o001) === 0) return { directory: current, mode };
    if (current === path.dirname(current)) return undefined;
  }
}

const octal = (mode: number): string => mode.toString(8).padStart(4, '0');

/** Makes whatever is missing of `directory` and above it, each with mode 0711 (pass through, not list), whatever the umask. */
function makeDirectories(directory: string): void {
  const missing: string[] = [];
  for (let current = directory; !fs.existsSync(current); current = path.dirname(current)) missing.unshift(current);
  for (const made of missing) {
    fs.mkdirSync(made);
    fs.chmodSync(made, 0o711);
  }
}

/** A directory of Lapis's own (in its data directory, or its placement outside): made if need be, and 0711 whoever left it otherwise. */
function makeOwnDirectory(directory: string): void {
  makeDirectories(directory);
  fs.chmodSync(directory, 0o711);
}

/**
 * Makes the nodes directory and answers where it is. `tasksRunAsOthers`:
 * Lapis runs as root, and tasks as users of their own, who must reach it.
 */
export function prepareNodesDirectory(dataDir: string, configured: string | undefined, tasksRunAsOthers: boolean): NodesDirectory {
  try {
    return placeNodesDirectory(dataDir, configured, tasksRunAsOthers);
  } catch (error) {
    const errno = error as NodeJS.ErrnoException;
    if (typeof errno.code !== 'string') throw error;
    throw new Error(`The nodes directory cannot be made (${errno.message}): give one with --nodes-dir <dir> (or LAPIS_NODES_DIR).`);
  }
}

function placeNodesDirectory(dataDir: string, configured: string | undefined, tasksRunAsOthers: boolean): NodesDirectory {
  if (configured !== undefined) {
    const given = path.resolve(configured);
    // A directory that exists keeps its mode: it may be anyone's (never /tmp made 0711).
    makeDirectories(given);
    const closed = tasksRunAsOthers ? closedAncestor(given) : undefined;
    if (closed) {
      throw new Error(
        `Tasks cannot reach the nodes directory ${given}: they run as users of their own, and ${closed.directory} (mode ${octal(closed.mode)}) lets no other user pass through. ` +
          `Give --nodes-dir a directory other users can reach, or leave it out to let Lapis choose.`,
      );
    }
    return { path: given, outside: false };
  }
  const inside = path.join(dataDir, 'nodes');
  // The data directory itself is 0711 (prepareDataDirectory); what matters is above it.
  if (!tasksRunAsOthers || !closedAncestor(path.dirname(dataDir))) {
    makeOwnDirectory(inside);
    return { path: inside, outside: false };
  }
  const own = path.join(OWN_NODES_ROOT, createHash('sha256').update(dataDir).digest('hex').slice(0, 16));
  makeOwnDirectory(own);
  const closed = closedAncestor(own);
  if (closed) {
    throw new Error(
      `Tasks cannot reach the nodes directory ${own}: ${closed.directory} (mode ${octal(closed.mode)}) lets no other user pass through. ` +
        `Lapis placed the nodes there because tasks cannot reach the data directory ${dataDir}. Give --nodes-dir (or --data) a directory other users can reach.`,
    );
  }
  return { path: own, outside: true };
}
