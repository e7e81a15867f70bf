// Control groups (cgroup v2) that hold every process a run starts, so that
// nothing a task starts outlives it: not a `setsid` daemon, not a double
// fork, not `nohup`. The launcher starts each run inside a group of its own
// (launcher-process.mjs) and kills the group when the run ends; a node's
// runs are under one group per node, killed whole when the node is removed,
// rebooted or reimaged (a start task's processes live until then, as on a
// Batch node).
//
// Layout: <cgroup2 mount><the server's own group>/lapis.<hash of the nodes
// directory>/{launcher, <nodeId>/<run>}. Used where the machine allows it:
// a writable cgroup v2 hierarchy with cgroup.kill (Linux 5.14+), which
// needs root. Elsewhere `findCgroupRoot` answers undefined and the agent
// falls back to ending every process of a task-scope user's uid.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The cgroup v2 mount point, from /proc/self/mountinfo. */
function cgroup2Mount(): string | undefined {
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [mountFields, filesystem] = line.split(' - ');
      if (!filesystem?.startsWith('cgroup2 ')) continue;
      const mountPoint = mountFields?.split(' ')[4];
      if (mountPoint) return mountPoint;
    }
  } catch {
    // Not Linux, or no /proc.
  }
  return undefined;
}

/** This process's own group in the v2 hierarchy (the `0::` line). */
function ownGroup(): string | undefined {
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('0::'));
    return line?.slice(3);
  } catch {
    return undefined;
  }
}

/**
 * The group that holds this server's nodes, made if need be; undefined when
 * the machine does not allow one (no cgroup v2, no cgroup.kill, not root).
 */
export function findCgroupRoot(nodesDirectory: string): string | undefined {
  if (process.getuid?.() !== 0 || process.env.LAPIS_CGROUPS === 'off') return undefined;
  const mount = cgroup2Mount();
  const own = ownGroup();
  if (!mount || own === undefined) return undefined;
  const name = `lapis.${createHash('sha256').update(path.resolve(nodesDirectory)).digest('hex').slice(0, 12)}`;
  const root = path.join(mount, own, name);
  try {
    mkdirSync(path.join(root, 'launcher'), { recursive: true });
    if (!existsSync(path.join(root, 'launcher', 'cgroup.kill'))) return undefined;
    return root;
  } catch {
    return undefined;
  }
}

/**
 * Kills every process in the group and the groups below it, then removes
 * them all once empty. Killed processes take a moment to go; groups still
 * busy after a few seconds are left for the next removal.
 */
export async function killGroupTree(group: string): Promise<void> {
  try {
    await fs.writeFile(path.join(group, 'cgroup.kill'), '1');
  } catch {
    return;
  }
  await removeTree(group);
}

async function removeTree(group: string): Promise<void> {
  let children: string[] = [];
  try {
    children = (await fs.readdir(group, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch {
    return;
  }
  for (const child of children) await removeTree(path.join(group, child));
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await fs.rmdir(group);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY') return;
      await sleep(20);
    }
  }
}
