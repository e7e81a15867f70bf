// The task launcher's one no-follow open (see no-follow.ts for the agent's
// side and the why): plain JavaScript with only node: imports, because the
// launcher is started with bare `node`.
//
// openAppendNoFollow(base, target) opens `target` for appending, creating it
// (mode 0644) if missing. `base` is trusted (no part of its path is writable
// by a task); every component below it is opened through the descriptor of
// its parent (/proc/self/fd/<fd>/<name>) with O_NOFOLLOW, so a link a task
// planted anywhere on the way, or at the file itself, makes the open fail
// instead of being followed. A FIFO, a device or a hard link to another file
// (more than one link) is refused too.

import { closeSync, constants, existsSync, fstatSync, openSync } from 'node:fs';
import path from 'node:path';

const { O_RDONLY, O_WRONLY, O_DIRECTORY, O_NOFOLLOW, O_CREAT, O_APPEND, O_NONBLOCK } = constants;
const PROC_FD = existsSync('/proc/self/fd');

function failure(message, code) {
  return Object.assign(new Error(message), { code });
}

export function openAppendNoFollow(base, target, mode = 0o644) {
  return openAppendAllNoFollow(base, [target], mode)[0];
}

/**
 * The same for several targets (a run's stdout and stderr): the directories
 * on the way are opened once for targets in the same directory. All opened,
 * or none (what was opened is closed before the error is thrown).
 */
export function openAppendAllNoFollow(base, targets, mode = 0o644) {
  const descriptors = [];
  let directory;
  let directoryKey;
  try {
    for (const target of targets) {
      const relative = path.relative(path.resolve(base), path.resolve(target));
      if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) throw failure(`'${target}' is not inside '${base}'`, 'EINVAL');
      const names = relative.split(path.sep);
      const file = names.pop();
      const key = names.join(path.sep);
      if (directory === undefined || key !== directoryKey) {
        if (directory !== undefined) closeSync(directory.descriptor);
        directory = undefined;
        directory = openDirectoryNoFollow(base, names);
        directoryKey = key;
      }
      descriptors.push(openFileAt(directory, file, target, mode));
    }
    return descriptors;
  } catch (error) {
    for (const descriptor of descriptors) closeSync(descriptor);
    throw error;
  } finally {
    if (directory !== undefined) closeSync(directory.descriptor);
  }
}

/** `base`, then each of `names` below it through its parent's descriptor without following a link. */
function openDirectoryNoFollow(base, names) {
  const directory = { descriptor: openSync(base, O_RDONLY | O_DIRECTORY), path: base };
  try {
    for (const name of names) {
      const next = openSync(at(directory, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      closeSync(directory.descriptor);
      directory.descriptor = next;
      directory.path = path.join(directory.path, name);
    }
    return directory;
  } catch (error) {
    closeSync(directory.descriptor);
    throw error;
  }
}

function at(directory, name) {
  return PROC_FD ? `/proc/self/fd/${directory.descriptor}/${name}` : path.join(directory.path, name);
}

function openFileAt(directory, file, target, mode) {
  const descriptor = openSync(at(directory, file), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, mode);
  try {
    const stats = fstatSync(descriptor);
    if (!stats.isFile() || stats.nlink !== 1) throw failure(`'${target}' is not a plain file`, 'EPERM');
  } catch (error) {
    closeSync(descriptor);
    throw error;
  }
  return descriptor;
}
