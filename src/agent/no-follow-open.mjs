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
  const relative = path.relative(path.resolve(base), path.resolve(target));
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) throw failure(`'${target}' is not inside '${base}'`, 'EINVAL');
  const names = relative.split(path.sep);
  const file = names.pop();
  let directory = openSync(base, O_RDONLY | O_DIRECTORY);
  let directoryPath = base;
  const at = (name) => (PROC_FD ? `/proc/self/fd/${directory}/${name}` : path.join(directoryPath, name));
  try {
    for (const name of names) {
      const next = openSync(at(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      closeSync(directory);
      directory = next;
      directoryPath = path.join(directoryPath, name);
    }
    const descriptor = openSync(at(file), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, mode);
    try {
      const stats = fstatSync(descriptor);
      if (!stats.isFile() || stats.nlink !== 1) throw failure(`'${target}' is not a plain file`, 'EPERM');
    } catch (error) {
      closeSync(descriptor);
      throw error;
    }
    return descriptor;
  } finally {
    closeSync(directory);
  }
}
