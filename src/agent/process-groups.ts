// Task processes run as the leaders of their own process groups: how the
// agent ends a group, and how a process's end reads as an exit code.

/** Kills the whole process group led by `pid`. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };

/** The exit code Batch reports; a process ended by signal N exits 128 + N (shell convention). */
export function exitCodeOf(code: number | null, signal: string | null): number {
  return code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0);
}
