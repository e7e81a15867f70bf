// Usage records: node lifetimes per pool, completed-task totals per account
// and resource totals per pool, the sources of pool usage metrics and
// lifetime statistics.

import type Database from 'better-sqlite3';
import type { NodeUsageSample } from '../../core/node-usage.js';
import type { AccountTaskTotals, NodeUsageInterval, PoolResourceTotals, TaskCompletionUsage, UsageRepository } from '../../core/ports.js';
import type { Row } from './paging.js';

export class SqliteUsage implements UsageRepository {
  private readonly startStmt;
  private readonly endStmt;
  private readonly overlappingStmt;
  private readonly completionStmt;
  private readonly totalsStmt;
  private readonly resourceStmt;
  private readonly poolResourcesStmt;
  private readonly accountResourcesStmt;

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
    this.resourceStmt = db.prepare(`
      INSERT INTO pool_resource_usage (account, pool_id, sampled_ms, cpu_percent_ms, memory_byte_ms, peak_memory_bytes, disk_byte_ms, peak_disk_bytes,
        disk_read_bytes, disk_write_bytes, disk_read_ops, disk_write_ops, network_in_bytes, network_out_bytes, first_ms, last_ms)
      VALUES (@account, @poolId, @intervalMs, @cpuPercent * @intervalMs, @memoryBytes * @intervalMs, @memoryBytes, @diskBytes * @intervalMs, @diskBytes,
        @diskReadBytes, @diskWriteBytes, @diskReadOps, @diskWriteOps, @networkInBytes, @networkOutBytes, @now, @now)
      ON CONFLICT (account, pool_id) DO UPDATE SET
        sampled_ms = sampled_ms + excluded.sampled_ms, cpu_percent_ms = cpu_percent_ms + excluded.cpu_percent_ms,
        memory_byte_ms = memory_byte_ms + excluded.memory_byte_ms, peak_memory_bytes = max(peak_memory_bytes, excluded.peak_memory_bytes),
        disk_byte_ms = disk_byte_ms + excluded.disk_byte_ms, peak_disk_bytes = max(peak_disk_bytes, excluded.peak_disk_bytes),
        disk_read_bytes = disk_read_bytes + excluded.disk_read_bytes, disk_write_bytes = disk_write_bytes + excluded.disk_write_bytes,
        disk_read_ops = disk_read_ops + excluded.disk_read_ops, disk_write_ops = disk_write_ops + excluded.disk_write_ops,
        network_in_bytes = network_in_bytes + excluded.network_in_bytes, network_out_bytes = network_out_bytes + excluded.network_out_bytes,
        last_ms = excluded.last_ms`);
    const totals = `SELECT count(*) AS pools, sum(sampled_ms) AS sampled_ms, sum(cpu_percent_ms) AS cpu_percent_ms, sum(memory_byte_ms) AS memory_byte_ms,
      max(peak_memory_bytes) AS peak_memory_bytes, sum(disk_byte_ms) AS disk_byte_ms, max(peak_disk_bytes) AS peak_disk_bytes,
      sum(disk_read_bytes) AS disk_read_bytes, sum(disk_write_bytes) AS disk_write_bytes, sum(disk_read_ops) AS disk_read_ops, sum(disk_write_ops) AS disk_write_ops,
      sum(network_in_bytes) AS network_in_bytes, sum(network_out_bytes) AS network_out_bytes, min(first_ms) AS first_ms, max(last_ms) AS last_ms
      FROM pool_resource_usage WHERE account = ?`;
    this.accountResourcesStmt = db.prepare(totals);
    this.poolResourcesStmt = db.prepare(`${totals} AND lower(pool_id) = lower(?)`);
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
  resourcesSampled(account: string, poolId: string, sample: NodeUsageSample, nowMs: number): void {
    this.resourceStmt.run({ account, poolId, ...sample, now: nowMs });
  }
  resourceTotals(account: string, poolId?: string): PoolResourceTotals | undefined {
    const row = (poolId === undefined ? this.accountResourcesStmt.get(account) : this.poolResourcesStmt.get(account, poolId)) as Row;
    if (row.pools === 0) return undefined;
    return {
      sampledMs: row.sampled_ms as number,
      cpuPercentMs: row.cpu_percent_ms as number,
      memoryByteMs: row.memory_byte_ms as number,
      peakMemoryBytes: row.peak_memory_bytes as number,
      diskByteMs: row.disk_byte_ms as number,
      peakDiskBytes: row.peak_disk_bytes as number,
      diskReadBytes: row.disk_read_bytes as number,
      diskWriteBytes: row.disk_write_bytes as number,
      diskReadOps: row.disk_read_ops as number,
      diskWriteOps: row.disk_write_ops as number,
      networkInBytes: row.network_in_bytes as number,
      networkOutBytes: row.network_out_bytes as number,
      firstMs: row.first_ms as number,
      lastMs: row.last_ms as number,
    };
  }
}
