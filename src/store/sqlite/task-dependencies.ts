// Task dependencies in SQLite. Each task row carries `waiting` (1 while a
// parent has not completed in a way that satisfies it) so the runnable query
// stays an index scan however many dependencies there are; a completing task
// re-checks only the tasks that name it, explicitly or through an id range.
//
// A parent satisfies its dependents when it is completed with dependency
// action `satisfy` (success, or exit conditions that say so). Every id in an
// id range is a parent, as an explicit id is: one that does not exist yet
// keeps its dependents waiting.

import type Database from 'better-sqlite3';
import { idKey } from '../../core/ids.js';
import type { Task } from '../../core/task.js';

/** A task id as a number for id ranges: canonical decimal digits only. */
export function numericId(taskId: string): number | null {
  return /^(0|[1-9]\d{0,14})$/.test(taskId) ? Number(taskId) : null;
}

export class SqliteTaskDependencies {
  private readonly insertEdge;
  private readonly insertRange;
  private readonly unsatisfiedStmt;
  private readonly setWaitingStmt;
  private readonly byParentStmt;
  private readonly byRangeStmt;
  private readonly deleteEdgesStmt;
  private readonly deleteRangesStmt;

  constructor(db: Database.Database) {
    this.insertEdge = db.prepare('INSERT INTO task_dependencies (account, job_key, task_seq, parent_key) VALUES (?, ?, ?, ?)');
    this.insertRange = db.prepare('INSERT INTO task_dependency_ranges (account, job_key, task_seq, first, last) VALUES (?, ?, ?, ?, ?)');
    // Explicit parents not satisfied (missing, or not completed with `satisfy`), then range members not satisfied.
    this.unsatisfiedStmt = db.prepare(`
      SELECT
        (SELECT count(*) FROM task_dependencies d
           LEFT JOIN tasks p ON p.account = d.account AND p.job_key = d.job_key AND p.key = d.parent_key
          WHERE d.task_seq = @seq AND (p.seq IS NULL OR p.state <> 'completed' OR p.dep_action IS NOT 'satisfy'))
      + (SELECT coalesce(sum(r.last - r.first + 1
             - (SELECT count(*) FROM tasks p
                 WHERE p.account = r.account AND p.job_key = r.job_key AND p.num_id BETWEEN r.first AND r.last
                   AND p.seq <> @seq AND p.state = 'completed' AND p.dep_action = 'satisfy')
             - (SELECT count(*) FROM tasks s WHERE s.seq = @seq AND s.num_id BETWEEN r.first AND r.last)), 0)
           FROM task_dependency_ranges r WHERE r.task_seq = @seq) AS n`);
    this.setWaitingStmt = db.prepare('UPDATE tasks SET waiting = ? WHERE seq = ?');
    // Only tasks that have not started care about their parents any more.
    this.byParentStmt = db.prepare(
      `SELECT d.task_seq AS seq FROM task_dependencies d JOIN tasks t ON t.seq = d.task_seq
        WHERE d.account = ? AND d.job_key = ? AND d.parent_key = ? AND t.state = 'active'`,
    );
    this.byRangeStmt = db.prepare(
      `SELECT r.task_seq AS seq FROM task_dependency_ranges r JOIN tasks t ON t.seq = r.task_seq
        WHERE r.account = ? AND r.job_key = ? AND r.first <= ? AND r.last >= ? AND t.state = 'active'`,
    );
    this.deleteEdgesStmt = db.prepare('DELETE FROM task_dependencies WHERE task_seq = ?');
    this.deleteRangesStmt = db.prepare('DELETE FROM task_dependency_ranges WHERE task_seq = ?');
  }

  /** Records a new task's parents and whether it must wait for them. */
  add(account: string, jobId: string, seq: number, task: Task): void {
    const dependsOn = task.dependsOn;
    if (!dependsOn) return;
    const jobKey = idKey(jobId);
    for (const parent of new Set((dependsOn.taskIds ?? []).map(idKey))) this.insertEdge.run(account, jobKey, seq, parent);
    for (const range of dependsOn.taskIdRanges ?? []) this.insertRange.run(account, jobKey, seq, range.start, range.end);
    this.recheck(seq);
  }

  /**
   * A task was added, completed, reactivated or deleted: the tasks that name
   * it and have not started check their parents again.
   */
  parentChanged(account: string, jobId: string, taskId: string): void {
    const jobKey = idKey(jobId);
    const seqs = new Set<number>();
    for (const row of this.byParentStmt.all(account, jobKey, idKey(taskId)) as { seq: number }[]) seqs.add(row.seq);
    const number = numericId(taskId);
    if (number !== null) {
      for (const row of this.byRangeStmt.all(account, jobKey, number, number) as { seq: number }[]) seqs.add(row.seq);
    }
    for (const seq of seqs) this.recheck(seq);
  }

  remove(seq: number): void {
    this.deleteEdgesStmt.run(seq);
    this.deleteRangesStmt.run(seq);
  }

  private recheck(seq: number): void {
    const { n } = this.unsatisfiedStmt.get({ seq }) as { n: number };
    this.setWaitingStmt.run(n > 0 ? 1 : 0, seq);
  }
}
