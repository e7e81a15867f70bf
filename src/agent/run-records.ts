// The records a node keeps of its started runs (volatile/pids, written by the
// launcher; see launcher-protocol.ts), as read when the node starts again:
// after a server crash, how runs ended meanwhile, and which process groups
// still run and must end before the node takes new work.

import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { TaskRunReport } from '../core/ports.js';
import { MAX_WALL_CLOCK_TIME_EXPIRED, type TaskRunOutcome } from '../core/task.js';
import { formatTimestamp } from '../core/time.js';
import { parsePidFile } from './launcher-protocol.js';
import { exitCodeOf, killGroup } from './process-groups.js';

export function pidDirectoryOf(nodeRoot: string): string {
  return path.join(nodeRoot, 'volatile', 'pids');
}

/**
 * Earlier Lapis versions recorded a run's exit in `<pid>.exit` beside
 * the pid file. A node directory a server of that version left (killed with
 * -9) is read as if the exit were the pid file's second line: its ended runs
 * are completed from it, and their pids, maybe another process's by now, are
 * never signalled.
 */
const LEGACY_EXIT_SUFFIX = '.exit';

function withLegacyExit(content: string, legacyExit: () => string | undefined): string {
  if (content.includes('\n')) return content;
  const exit = legacyExit();
  return exit === undefined ? content : `${content}\n${exit}`;
}

function readSyncOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** What a process's end means for its run, before output files. */
export function processOutcome(exit: { code: number | null; signal: string | null; timedOut: boolean }): Pick<TaskRunOutcome, 'exitCode' | 'failureInfo'> {
  const exitCode = exitCodeOf(exit.code, exit.signal);
  return exit.timedOut ? { exitCode, failureInfo: { ...MAX_WALL_CLOCK_TIME_EXPIRED } } : { exitCode };
}

/**
 * The outcomes of recoverable runs whose exit was recorded, under one node's
 * root. Read synchronously: once, at server start, before anything runs. A
 * record that cannot be read counts as no record (the run is requeued).
 */
export function recordedOutcomes(nodeRoot: string): TaskRunReport[] {
  const directory = pidDirectoryOf(nodeRoot);
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return [];
  }
  const reports: TaskRunReport[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let content: string;
    try {
      content = readFileSync(path.join(directory, name), 'utf8');
    } catch {
      // Removed meanwhile.
      continue;
    }
    const { record, exit } = parsePidFile(withLegacyExit(content, () => readSyncOrUndefined(path.join(directory, name + LEGACY_EXIT_SUFFIX))));
    if (!record?.recoverable || !exit) continue;
    const outcome = processOutcome({ code: exit.exitCode, signal: exit.signal, timedOut: exit.timedOut });
    reports.push({ run: record.run, outcome: { ...outcome, startTime: record.startTime, endTime: formatTimestamp(new Date(exit.endTime)) } });
  }
  return reports;
}

/**
 * A previous server process that died (kill -9) leaves its runs' records,
 * and the processes that had not ended yet: their runs were requeued, so
 * their process groups are ended before the node takes new work, or a task
 * would run twice at once. A run whose exit was recorded has ended: its pid
 * may already belong to another process and is left alone.
 */
export async function endLeftoverRuns(nodeRoot: string): Promise<void> {
  const directory = pidDirectoryOf(nodeRoot);
  let names: string[];
  try {
    names = await fs.readdir(directory);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name);
    const file = path.join(directory, name);
    if (Number.isInteger(pid) && pid > 1) {
      const content = await fs.readFile(file, 'utf8').catch(() => '');
      if (!parsePidFile(withLegacyExit(content, () => readSyncOrUndefined(file + LEGACY_EXIT_SUFFIX))).ended) killGroup(pid);
    }
    await fs.rm(file, { force: true });
  }
}
