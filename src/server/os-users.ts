// Looks up a local OS user by name (for running tasks as a non-root user).

import fs from 'node:fs';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

export function findOsUser(name: string, passwdFile = '/etc/passwd'): OsUser | undefined {
  let text: string;
  try {
    text = fs.readFileSync(passwdFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}
