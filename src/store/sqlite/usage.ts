// Usage records: node lifetimes per pool and completed-task totals per
// account, the sources of pool usage metrics and lifetime statistics.

import type Database from 'better-sqlite3';
import type { AccountTaskTotals, NodeUsageInterval, TaskCompletionUsage, UsageRepository } from '../../core/ports.js';
import type { Row } from './paging.js';

export class SqliteUsage implements UsageRepository {
  private readonly startStmt;
  private readonly endStmt;
  private readonly overlappingStmt;
  private readonly completionStmt;
  private readonly totalsStmt;

  constructor(db: Database.Database) {
    this.startStmt = db.prepare(
      'INSERT OR REPLACE INTO node_usage (account, pool_id, node_id, vm_size, dedicated, start_ms, end_ms) VALUES (?, ?, ?, ?, ?, ?, NULL)',
    );
    this.endStmt = db.prepare('UPDATE node_usage SET end_ms = ? WHERE account = ? AND node_id = ? AND end_ms IS NULL');
    this.overlappingStmt = db.prepare(
      'SELECT pool_id, node_id, vm_size, dedicated, start_ms, end_ms FROM node_usage WHERE account = ? AND start_ms < ? AND (end_ms IS NULL OR end_ms > ?) ORDER BY start_ms',
    );
    this.completionStmt = db.prepare(`
      INSERT INTO account_task_stats (account, succeeded, failed, retries, wall_ms, wait_ms, first_ms, last_ms)
      VALUES (@account, @succeeded, @failed, @retries, @wallMs, @waitMs, @now, @now)
      ON CONFLICT (account) DO UPDATE SET
        succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed, retries = retries + excluded.retries,
        wall_ms = wall_ms + excluded.wall_ms, wait_ms = wait_ms + excluded.wait_ms, last_ms = excluded.last_ms`);
    this.totalsStmt = db.prepare('SELECT * FROM account_task_stats WHERE account = ?');
  }

  nodeStarted(account: string, poolId: string, nodeId: string, vmSize: string, dedicated: boolean, startMs: number): void {
    this.startStmt.run(account, poolId, nodeId, vmSize, dedicated ? 1 : 0, startMs);
  }
  nodeEnded(account: string, nodeId: string, endMs: number): void {
    this.endStmt.run(endMs, account, nodeId);
  }
  overlapping(account: string, fromMs: number, toMs: number): NodeUsageInterval[] {
    return (this.overlappingStmt.all(account, toMs, fromMs) as Row[]).map((row) => ({
      poolId: row.pool_id as string,
      nodeId: row.node_id as string,
      vmSize: row.vm_size as string,
      dedicated: row.dedicated === 1,
      startMs: row.start_ms as number,
      endMs: (row.end_ms as number | null) ?? undefined,
    }));
  }
  taskCompleted(account: string, usage: TaskCompletionUsage, nowMs: number): void {
    this.completionStmt.run({
      account,
      succeeded: usage.succeeded ? 1 : 0,
      failed: usage.succeeded ? 0 : 1,
      retries: usage.retries,
      wallMs: Math.max(0, Math.round(usage.wallMs)),
      waitMs: Math.max(0, Math.round(usage.waitMs)),
      now: nowMs,
    });
  }
  taskTotals(account: string): AccountTaskTotals | undefined {
    const row = this.totalsStmt.get(account) as Row | undefined;
    if (!row) return undefined;
    return {
      succeeded: row.succeeded as number,
      failed: row.failed as number,
      retries: row.retries as number,
      wallMs: row.wall_ms as number,
      waitMs: row.wait_ms as number,
      firstMs: row.first_ms as number,
      lastMs: row.last_ms as number,
    };
  }
}
