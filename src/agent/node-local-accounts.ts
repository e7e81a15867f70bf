// OS accounts an agent makes itself, on the machine that is its node alone
// (a container node's own /etc/passwd): named as on a Batch Linux node —
// `_azbatch` for the pool-scope auto user, `_azbatch<slot>` for the start
// task's and each task-scope slot's — all in the node's group `_azbatchgrp`;
// their ids from 300000 up, far from the ids of the host's own users, which
// without a user namespace are the same numbers on the host;
// a pool's named users with their name, uid/gid and password (given to
// chpasswd on stdin, never on a command line), admins also in `sudo`. Nothing
// is removed: the node's accounts go with its container.

import { execFile } from 'node:child_process';
import type { NodeUserAccount, NodeUserAccounts, OsAccount } from '../core/ports.js';
import { SYSTEM_PATH } from '../core/system-path.js';
import { SettledOnce } from './settled-once.js';

const NODE_GROUP = '_azbatchgrp';
const NODE_GID = '300000';
/** useradd picks each auto user's uid in this range. */
const AUTO_UIDS = ['-K', 'UID_MIN=300001', '-K', 'UID_MAX=399999'];

export class NodeLocalAccounts implements NodeUserAccounts {
  private readonly made = new SettledOnce<OsAccount>();
  private group: Promise<number> | undefined;

  poolGroup(): Promise<number> {
    this.group ??= (async () => {
      if (!(await exists('getent', ['group', NODE_GROUP]))) await run('groupadd', ['-g', NODE_GID, NODE_GROUP]);
      return Number((await run('getent', ['group', NODE_GROUP])).split(':')[2]);
    })();
    return this.group;
  }

  autoUser(_placement: unknown, slot: string): Promise<OsAccount> {
    const name = slot === 'pool' ? '_azbatch' : `_azbatch${slot}`;
    return this.made.get(name, async () => {
      const gid = await this.poolGroup();
      if (!(await exists('id', ['-u', name]))) await run('useradd', ['-M', '-N', ...AUTO_UIDS, '-g', String(gid), '-s', '/bin/sh', name]);
      return this.account(name);
    });
  }

  ensure(_placement: unknown, user: NodeUserAccount): Promise<OsAccount> {
    return this.made.get(`user:${user.name}`, async () => {
      const gid = await this.poolGroup();
      if (!(await exists('id', ['-u', user.name]))) {
        if (user.gid !== undefined && !(await exists('getent', ['group', String(user.gid)]))) await run('groupadd', ['-g', String(user.gid), user.name]);
        const ids = user.uid !== undefined ? ['-u', String(user.uid), '-g', String(user.gid)] : ['-N', ...AUTO_UIDS, '-g', String(gid)];
        await run('useradd', ['-m', '-s', '/bin/bash', ...ids, ...(user.gid !== undefined ? ['-G', NODE_GROUP] : []), user.name]);
      }
      if (user.password) await run('chpasswd', [], `${user.name}:${user.password}\n`);
      if (user.elevationLevel === 'admin' && (await exists('getent', ['group', 'sudo']))) await run('usermod', ['-aG', 'sudo', user.name]);
      const account = await this.account(user.name);
      return account.gid === gid ? account : { ...account, groups: [gid] };
    });
  }

  /** The node's accounts go with its container. */
  async releaseNode(): Promise<void> {}

  private async account(name: string): Promise<OsAccount> {
    const [, , uid, gid, , home] = (await run('getent', ['passwd', name])).trim().split(':');
    return { name, uid: Number(uid), gid: Number(gid), home: home ?? '/' };
  }
}

function run(command: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { env: { PATH: SYSTEM_PATH } }, (error, stdout, stderr) =>
      error ? reject(new Error(`${command} failed: ${stderr.trim() || error.message}`)) : resolve(stdout),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function exists(command: string, args: string[]): Promise<boolean> {
  return run(command, args).then(
    () => true,
    () => false,
  );
}
