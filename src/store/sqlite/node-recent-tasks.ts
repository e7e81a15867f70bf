// Nodes' recentTasks in SQLite (migration 0022): one row per entry, keyed by
// its job, task and subtask, ordered by `seq`. Noting an entry is an upsert
// and, for an entry that is not running, one delete of the oldest ended
// entries beyond the bound; neither reads a row back into JavaScript.

import type Database from 'better-sqlite3';
import { idKey } from '../../core/ids.js';
import type { TaskInformation } from '../../core/node.js';
import type { NodeRecentTaskRepository } from '../../core/ports.js';

const RUNNING_STATES = new Set(['running', 'preparing']);

function entryKey(jobId: string, taskId: string, subtaskId: number | undefined): string {
  return `${idKey(jobId)}\n${idKey(taskId)}\n${subtaskId ?? ''}`;
}

export class SqliteNodeRecentTasks implements NodeRecentTaskRepository {
  private readonly upsertStmt;
  private readonly trimStmt;
  private readonly forgetStmt;
  private readonly listStmt;

  constructor(db: Database.Database) {
    this.upsertStmt = db.prepare(`INSERT OR REPLACE INTO node_recent_tasks (account, node_id, entry_key, seq, running, doc)
      VALUES (?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM node_recent_tasks WHERE account = ? AND node_id = ?), ?, ?)`);
    this.trimStmt = db.prepare(`DELETE FROM node_recent_tasks WHERE account = ? AND node_id = ? AND running = 0 AND seq <=
      (SELECT seq FROM node_recent_tasks WHERE account = ? AND node_id = ? AND running = 0 ORDER BY seq DESC LIMIT 1 OFFSET ?)`);
    // Subtask entries share the prefix `job\ntask\n`; '\n' + 1 is '\v'.
    this.forgetStmt = db.prepare('DELETE FROM node_recent_tasks WHERE account = ? AND node_id = ? AND entry_key >= ? AND entry_key < ?');
    this.listStmt = db.prepare('SELECT doc FROM node_recent_tasks WHERE account = ? AND node_id = ? ORDER BY seq DESC');
  }

  note(account: string, nodeId: string, entry: TaskInformation, keepEnded: number): void {
    const running = RUNNING_STATES.has(entry.taskState);
    const key = entryKey(entry.jobId ?? '', entry.taskId ?? '', entry.subtaskId);
    this.upsertStmt.run(account, nodeId, key, account, nodeId, running ? 1 : 0, JSON.stringify(entry));
    if (!running) this.trimStmt.run(account, nodeId, account, nodeId, keepEnded);
  }

  forget(account: string, nodeId: string, jobId: string, taskId: string): void {
    const prefix = `${idKey(jobId)}\n${idKey(taskId)}\n`;
    this.forgetStmt.run(account, nodeId, prefix, `${prefix.slice(0, -1)}\v`);
  }

  list(account: string, nodeId: string): TaskInformation[] {
    return (this.listStmt.all(account, nodeId) as { doc: string }[]).map((row) => JSON.parse(row.doc) as TaskInformation);
  }
}
