// Task processes run as the leaders of their own process groups: how the
// agent ends a group, every process of a user, and how a process's end reads
// as an exit code.

import fs from 'node:fs/promises';

/** Kills the whole process group led by `pid`. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

/**
 * Kills every process whose real or effective uid is `uid`, scanning /proc
 * until a pass finds none (a process may fork while it is being killed).
 * Where there are no control groups, this is what ends what a task-scope
 * user's task left behind: that uid is the task's alone.
 */
export async function killUserProcesses(uid: number): Promise<void> {
  for (let pass = 0; pass < 50; pass++) {
    let found = 0;
    for (const entry of await fs.readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(entry)) continue;
      const status = await fs.readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
      const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
      if (!uids || (Number(uids[1]) !== uid && Number(uids[2]) !== uid)) continue;
      // A zombie is already dead: it waits only for its parent to reap it.
      if (/^State:\s+Z/m.test(status)) continue;
      found++;
      try {
        process.kill(Number(entry), 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    if (found === 0) return;
  }
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };

/** The exit code Batch reports; a process ended by signal N exits 128 + N (shell convention). */
export function exitCodeOf(code: number | null, signal: string | null): number {
  return code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0);
}
