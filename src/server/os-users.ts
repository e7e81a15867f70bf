// OS users on this machine: the accounts a node's runs use.
//
// Every pool has a group of its own (`lapis_g<hash>`), and its nodes' root
// directories are open to that group alone (root:group 0750): it is the one
// wall between tenants on this shared machine. Every account below has the
// pool's group as its primary group (a named user with a gid of its own
// holds it as a second group).
//
// Auto users are per node, as on a Batch node: `lapis_<hash>_pool` for pool
// scope and `lapis_<hash>_start` / `…_t<n>` for task scope (a task-scope user
// serves one task at a time: the agent hands it on only once every process
// of that uid has ended). They carry no password or home, and go with their
// node.
//
// Named users (userAccounts) get the user's own name when that name is free
// (or already this pool's), so `id -un` prints it as on a Batch node;
// otherwise a name unique to the account and pool (`lb<hash>_<name>`), since
// one machine cannot hold two different users of one name. The account
// records its pool in its comment field, the uid/gid of
// linuxUserConfiguration when given, a home directory, the password, and
// the sshPrivateKey as ~/.ssh/id_rsa with its public half in id_rsa.pub and
// authorized_keys, as Batch places it. It is removed when the last node here
// that used it is released (pool deleted or shrunk); a pool created again
// under the same id whose user differs (uid/gid) gets it made anew.
//
// Admin users (elevationLevel admin) are also put in the `sudo` group; their
// tasks run as root, as an admin autoUser's do. Passwords are never logged
// nor put on a command line (chpasswd reads them from stdin).

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openForAppend, removeEntry, withDirectory, writeFileReplacing } from '../agent/no-follow.js';
import type { NodePlacement, NodeUserAccount, NodeUserAccounts, OsAccount } from '../core/ports.js';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  comment?: string;
  home?: string;
}

export function findOsUser(name: string, passwdFile = '/etc/passwd'): OsUser | undefined {
  let text: string;
  try {
    text = fs.readFileSync(passwdFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [user, , uid, gid, comment, home] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid), comment, home };
  }
  return undefined;
}

/** What Debian's useradd accepts without --badname, and at most 32 characters. */
const PLAIN_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

export class OsUserAccounts implements NodeUserAccounts {
  /** Accounts made or checked by this process, by pool and user; one promise, so concurrent runs make it once. */
  private readonly accounts = new Map<string, Promise<OsAccount>>();
  /** The nodes that used each account, by pool and user. */
  private readonly users = new Map<string, Set<string>>();
  /** Each node's auto users, by node id then slot. */
  private readonly autoUsers = new Map<string, Map<string, Promise<OsAccount>>>();
  /** Pools' groups by marker, with the nodes that use each. */
  private readonly groups = new Map<string, { gid: Promise<number>; nodes: Set<string> }>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Names this server's accounts and groups apart from another server's on the machine (a digest of its nodes directory). */
  private readonly tag: string;

  constructor(
    private readonly nodesDirectory: string,
    private readonly passwdFile = '/etc/passwd',
    private readonly groupFile = '/etc/group',
  ) {
    this.tag = createHash('sha256').update(path.resolve(nodesDirectory)).digest('hex').slice(0, 6);
  }

  /**
   * Removes this server's accounts and groups whose node is gone: left by a
   * server that stopped and whose nodes were removed meanwhile (or whose
   * data directory was). Run at start, before any node is used.
   */
  async removeLeftovers(): Promise<void> {
    const liveNodes = new Set<string>();
    const liveGroups = new Set<number>();
    for (const nodeId of fs.existsSync(this.nodesDirectory) ? fs.readdirSync(this.nodesDirectory) : []) {
      liveNodes.add(nodeId);
      liveGroups.add(fs.statSync(path.join(this.nodesDirectory, nodeId)).gid);
    }
    const groups = new Map(readEntries(this.groupFile).map(([name, , gid]) => [name ?? '', Number(gid)]));
    const groupPrefix = `lapis_g${this.tag}`;
    for (const [name, , , , comment] of readEntries(this.passwdFile)) {
      if (!name || !comment) continue;
      const [prefix, rest] = [comment.slice(0, 16), comment.slice(16).split(' ')];
      const gone =
        (prefix === AUTO_MARKER_PREFIX && rest[0] === this.tag && !liveNodes.has(rest[1] ?? '')) ||
        (prefix === MARKER_PREFIX && rest[1] === this.tag && !liveGroups.has(groups.get(`${groupPrefix}${rest[0]?.slice(0, 12)}`) ?? -1));
      if (gone) await run('userdel', ['-r', '-f', name]).catch(() => undefined);
    }
    for (const [name, gid] of groups) {
      if (name.startsWith(groupPrefix) && !liveGroups.has(gid)) await run('groupdel', [name]).catch(() => undefined);
    }
  }

  ensure(placement: NodePlacement, user: NodeUserAccount): Promise<OsAccount> {
    const marker = this.markerOf(placement);
    const key = `${marker}\n${user.name.toLowerCase()}`;
    const nodes = this.users.get(key) ?? new Set<string>();
    nodes.add(placement.nodeId);
    this.users.set(key, nodes);
    let account = this.accounts.get(key);
    if (!account) {
      // The name is chosen inside the queue, so two pools never both take a free name.
      const name = () => this.osName(user.name, marker, this.poolKey(placement));
      account = this.poolGroup(placement).then((poolGid) => this.serially(() => this.make(name(), marker, user, poolGid)));
      this.accounts.set(key, account);
      // A failure is not remembered: the next run tries again.
      account.catch(() => this.accounts.delete(key));
    }
    return account;
  }

  poolGroup(placement: NodePlacement): Promise<number> {
    const name = this.groupName(placement);
    let group = this.groups.get(name);
    if (!group) {
      const gid = this.serially(async () => {
        const existing = findGroup(name, this.groupFile);
        if (existing !== undefined) return existing;
        await run('groupadd', [name]);
        const made = findGroup(name, this.groupFile);
        if (made === undefined) throw new Error(`The group ${name} could not be created.`);
        return made;
      });
      group = { gid, nodes: new Set() };
      this.groups.set(name, group);
      gid.catch(() => this.groups.delete(name));
    }
    group.nodes.add(placement.nodeId);
    return group.gid;
  }

  autoUser(placement: NodePlacement, slot: string): Promise<OsAccount> {
    const slots = this.autoUsers.get(placement.nodeId) ?? new Map<string, Promise<OsAccount>>();
    this.autoUsers.set(placement.nodeId, slots);
    let account = slots.get(slot);
    if (!account) {
      const digest = createHash('sha256').update(`${this.tag}/${placement.account.toLowerCase()}/${placement.poolId.toLowerCase()}/${placement.nodeId}`).digest('hex');
      const name = `lapis_${digest.slice(0, 10)}_${slot}`;
      const marker = `${AUTO_MARKER_PREFIX}${this.tag} ${placement.nodeId}`;
      account = this.poolGroup(placement).then((gid) => this.serially(() => this.makeAutoUser(name, marker, gid)));
      slots.set(slot, account);
      account.catch(() => slots.delete(slot));
    }
    return account;
  }

  async releaseNode(nodeId: string): Promise<void> {
    for (const account of this.autoUsers.get(nodeId)?.values() ?? []) {
      const made = await account.catch(() => undefined);
      if (made) await this.serially(() => run('userdel', ['-f', made.name]).catch(() => undefined));
    }
    this.autoUsers.delete(nodeId);
    for (const [key, nodes] of this.users) {
      if (!nodes.delete(nodeId) || nodes.size > 0) continue;
      this.users.delete(key);
      const account = await this.accounts.get(key)?.catch(() => undefined);
      this.accounts.delete(key);
      if (account) await this.serially(() => run('userdel', ['-r', '-f', account.name]).catch(() => undefined));
    }
    for (const [name, group] of this.groups) {
      if (!group.nodes.delete(nodeId) || group.nodes.size > 0) continue;
      this.groups.delete(name);
      const gid = await group.gid.catch(() => undefined);
      if (gid !== undefined) await this.serially(() => run('groupdel', [name]).catch(() => undefined));
    }
  }

  /** A pool's digest, unique to this server. */
  private poolKey(placement: NodePlacement): string {
    return createHash('sha256').update(`${this.tag}/${placement.account.toLowerCase()}/${placement.poolId.toLowerCase()}`).digest('hex');
  }

  /** The comment that marks an account as a pool's named user, of this server. */
  private markerOf(placement: NodePlacement): string {
    return `${MARKER_PREFIX}${this.poolKey(placement).slice(0, 16)} ${this.tag}`;
  }

  private groupName(placement: NodePlacement): string {
    return `lapis_g${this.tag}${this.poolKey(placement).slice(0, 12)}`;
  }

  private async makeAutoUser(name: string, marker: string, gid: number): Promise<OsAccount> {
    let existing = findOsUser(name, this.passwdFile);
    if (existing && (existing.comment !== marker || existing.gid !== gid)) {
      if (!existing.comment?.startsWith(AUTO_MARKER_PREFIX)) throw new Error(`An account named ${name} already exists on this machine and was not made by Lapis.`);
      await run('userdel', ['-f', name]).catch(() => undefined);
      existing = undefined;
    }
    // Left by a server that stopped: the node is back, and so is its user.
    if (!existing) await run('useradd', ['-M', '-N', '-g', String(gid), '-d', '/nonexistent', '-s', '/bin/bash', '-c', marker, name]);
    const made = findOsUser(name, this.passwdFile);
    if (!made) throw new Error(`The user account ${name} could not be created.`);
    return { name, uid: made.uid, gid: made.gid, home: '/nonexistent' };
  }

  /** The user's own name when it is free (as a user and as a group) or already this pool's; otherwise one unique to the pool. */
  private osName(userName: string, marker: string, poolKey: string): string {
    if (PLAIN_NAME.test(userName)) {
      const existing = findOsUser(userName, this.passwdFile);
      if (existing?.comment === marker || (!existing && !hasGroup(userName, this.groupFile))) return userName;
    }
    const suffix = userName.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
    return `lb${poolKey.slice(0, 8)}_${suffix}`.slice(0, 32);
  }

  /** useradd and friends edit /etc/passwd and /etc/group: one at a time. */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async make(name: string, marker: string, user: NodeUserAccount, poolGid: number): Promise<OsAccount> {
    let existing = findOsUser(name, this.passwdFile);
    const differs = existing && (existing.comment !== marker || (user.uid !== undefined && (existing.uid !== user.uid || existing.gid !== user.gid)));
    if (existing && differs) {
      // Only an account Lapis made is ever removed: any other is this machine's own.
      if (!existing.comment?.startsWith(MARKER_PREFIX)) throw new Error(`An account named ${name} already exists on this machine and was not made by Lapis.`);
      // Left by an earlier pool of the same id: made anew for this pool.
      await run('userdel', ['-r', '-f', name]).catch(() => undefined);
      existing = undefined;
    }
    if (!existing) {
      const options = ['-m', '-s', '/bin/bash', '-c', marker];
      if (user.uid !== undefined && user.gid !== undefined) {
        // Local nodes share this machine: a pool user never gets root's or a system account's uid or group.
        if (user.uid < FIRST_POOL_USER_ID || user.gid < FIRST_POOL_USER_ID) {
          throw new Error(`The user ${user.name} asks for uid ${user.uid} and gid ${user.gid}; on a local node both must be at least ${FIRST_POOL_USER_ID}, below which are this machine's system accounts.`);
        }
        if (!(await groupExists(String(user.gid)))) await run('groupadd', ['-g', String(user.gid), name]);
        options.push('-u', String(user.uid), '-g', String(user.gid));
      } else {
        options.push('-N', '-g', String(poolGid));
      }
      await run('useradd', [...options, name]);
    }
    if (user.password) await run('chpasswd', [], `${name}:${user.password}\n`);
    if (user.elevationLevel === 'admin' && (await groupExists('sudo'))) await run('usermod', ['-aG', 'sudo', name]);
    const created = findOsUser(name, this.passwdFile);
    if (!created) throw new Error(`The user account ${name} could not be created.`);
    const home = created.home || `/home/${name}`;
    if (user.sshPrivateKey) await placeSshKey(home, user.sshPrivateKey, created);
    return { name, uid: created.uid, gid: created.gid, home, ...(created.gid !== poolGid ? { groups: [poolGid] } : {}) };
  }
}

function findGroup(name: string, groupFile: string): number | undefined {
  try {
    const line = fs.readFileSync(groupFile, 'utf8').split('\n').find((entry) => entry.split(':')[0] === name);
    return line === undefined ? undefined : Number(line.split(':')[2]);
  } catch {
    return undefined;
  }
}

/** The colon-separated fields of each line of /etc/passwd or /etc/group. */
function readEntries(file: string): string[][] {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split(':'));
  } catch {
    return [];
  }
}

function hasGroup(name: string, groupFile: string): boolean {
  try {
    return fs.readFileSync(groupFile, 'utf8').split('\n').some((line) => line.split(':')[0] === name);
  } catch {
    return false;
  }
}

const MARKER_PREFIX = 'lapis pool user ';
const AUTO_MARKER_PREFIX = 'lapis auto user ';
/** Debian's first uid and gid for ordinary users (UID_MIN, GID_MIN). */
const FIRST_POOL_USER_ID = 1000;


async function groupExists(group: string): Promise<boolean> {
  return run('getent', ['group', group]).then(
    () => true,
    () => false,
  );
}

/**
 * ~/.ssh/id_rsa (0600), its public key in id_rsa.pub and authorized_keys, all
 * owned by the user. The home is the user's, and an account made before is
 * reused (a restarted server): its tasks may have left links there, so
 * nothing below /home is followed, and the public key is derived from a
 * copy of the key in root's own directory, never from a file in the home.
 */
async function placeSshKey(home: string, privateKey: string, owner: OsUser): Promise<void> {
  const key = privateKey.endsWith('\n') ? privateKey : `${privateKey}\n`;
  const publicKey = await publicKeyOf(key);
  const user = { uid: owner.uid, gid: owner.gid };
  await withDirectory(
    path.dirname(home),
    [path.basename(home), '.ssh'],
    async (ssh) => {
      await writeFileReplacing(ssh, 'id_rsa', key, { mode: 0o600, owner: user });
      if (!publicKey) return;
      await writeFileReplacing(ssh, 'id_rsa.pub', publicKey, { mode: 0o644, owner: user });
      // Appended to, as Batch does; a link (or anything but a plain file) there is removed, never written through.
      const authorized = await openForAppend(ssh, 'authorized_keys', 0o600).catch(async () => {
        await removeEntry(ssh, 'authorized_keys', false);
        return openForAppend(ssh, 'authorized_keys', 0o600);
      });
      try {
        await authorized.appendFile(publicKey);
        await authorized.chown(user.uid, user.gid);
      } finally {
        await authorized.close();
      }
    },
    { mode: 0o700, owner: user },
  );
}

/** The OpenSSH public key of a private key, by ssh-keygen on a copy in a directory of root's own (0700). */
async function publicKeyOf(privateKey: string): Promise<string | undefined> {
  const directory = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'lapis-key-'));
  try {
    const file = path.join(directory, 'id');
    await fs.promises.writeFile(file, privateKey, { mode: 0o600, flag: 'wx' });
    return await run('ssh-keygen', ['-y', '-f', file]).catch(() => undefined);
  } finally {
    await fs.promises.rm(directory, { recursive: true, force: true });
  }
}

/**
 * Runs a program (no shell); its stderr, which may name the user but never
 * the password, becomes the error. useradd and friends lock /etc/passwd and
 * /etc/group and fail at once when another process (another Lapis, a test
 * running beside) holds the lock: they are tried again for a while.
 */
async function run(program: string, args: string[], input?: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await runOnce(program, args, input);
    } catch (error) {
      if (!/cannot lock|try again later/i.test((error as Error).message) || attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
    }
  }
}

function runOnce(program: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(program, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${program} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
