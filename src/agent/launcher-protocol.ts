// What the agent and the task launcher (launcher-process.mjs) say to each
// other over the IPC channel, and the two files the launcher keeps per run in
// a node's volatile/pids directory. The launcher is plain JavaScript, so these
// types are its contract: change both sides together.
//
// One file a run, named by the process id (the leader of the run's process
// group): the RunRecord the agent handed over, one line of JSON written once
// the process started; when it ends, a second line, a RecordedExit, appended
// before the agent hears of it (parsePidFile reads both). The agent has it
// removed once the outcome is stored; a restart reads what is left
// (run-records.ts). One file, not a second for the exit: on a file system
// that looks past every recently deleted inode for each new one (ext4
// without a journal), each file made and removed per task costs CPU.

import type { TaskRunRef } from '../core/ports.js';

export interface StartRequest {
  op: 'start';
  id: number;
  program: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  uid?: number;
  gid?: number;
  /** The supplementary groups (with the uid): a user with a gid of its own also needs the pool's, which lets it into the node. */
  groups?: number[];
  /** Opened (append) by the launcher for the process's stdout and stderr. */
  stdout: string;
  stderr: string;
  /**
   * A trusted directory (the node root) that stdout and stderr lie under:
   * each component below it is opened without following links, so a link a
   * task planted in its directory is never written through. Without it the
   * paths are opened as they are.
   */
  outputRoot?: string;
  /**
   * The control group the process starts in (cgroups.ts): made by the
   * launcher, which steps into it to start the process and back to `home`
   * right after.
   */
  cgroup?: { path: string; home: string };
  /**
   * Whether what the process starts may outlive it (a start task's daemons
   * live with their node, a coordination command's with its task). Unless
   * so, its process group and control group are killed when it ends.
   */
  keepProcesses?: boolean;
  /** Where the run is recorded for a restarted server; absent: it is not (a container node's container run, lost with its node). */
  pidDirectory?: string;
  /** The pid file's content: a RunRecord as JSON. */
  record?: string;
}

/** `stopped` runs end without a recorded exit (their pid file is removed: there is no outcome to recover); `timedOut` is recorded. */
export type KillReason = 'stopped' | 'timedOut';

export interface KillRequest {
  op: 'kill';
  id: number;
  reason: KillReason;
}

export interface ForgetRequest {
  op: 'forget';
  pidDirectory: string;
  pid: number;
}

export type LauncherRequest = StartRequest | KillRequest | ForgetRequest;

export type LauncherReply =
  /** The launcher's first message: how it starts processes (native/spawn.c, or Node's child_process). */
  | { type: 'ready'; spawner: 'native' | 'node' }
  | { type: 'started'; id: number; pid: number }
  /** The output files could not be opened (`open`), or the program not started (`spawn`, with its errno code). */
  | { type: 'failed'; id: number; stage: 'open' | 'spawn'; code: string; message: string }
  | { type: 'exited'; id: number; code: number | null; signal: NodeJS.Signals | null };

export interface RunRecord {
  run: TaskRunRef;
  startTime: string;
  /** Whether a restart may complete the run from its recorded exit (else it is requeued). */
  recoverable: boolean;
}

export interface RecordedExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** ISO time of the exit, by the launcher's clock. */
  endTime: string;
}

export interface PidFile {
  /** Undefined when the line cannot be read as one (written half when its launcher died). */
  record?: RunRecord;
  /** The process ended: its exit's line was begun, so its pid may belong to another process now. */
  ended: boolean;
  exit?: RecordedExit;
}

export function parsePidFile(content: string): PidFile {
  const newline = content.indexOf('\n');
  if (newline < 0) return { record: parsedOrUndefined<RunRecord>(content), ended: false };
  return { record: parsedOrUndefined<RunRecord>(content.slice(0, newline)), ended: true, exit: parsedOrUndefined<RecordedExit>(content.slice(newline + 1)) };
}

function parsedOrUndefined<T>(json: string): T | undefined {
  try {
    return JSON.parse(json) as T;
  } catch {
    return undefined;
  }
}
