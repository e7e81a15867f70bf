// The default store: SQLite through better-sqlite3, in WAL mode. Synchronous
// by design: one transaction is one JavaScript call, so no other request can
// interleave with a read-check-write sequence in this process.

import Database from 'better-sqlite3';
import fs from 'node:fs';
import type {
  ApplicationRepository,
  FaultRepository,
  CertificateRepository,
  JobNodeStatusRepository,
  JobRepository,
  JobScheduleRepository,
  NodeRecentTaskRepository,
  NodeRecord,
  NodeRepository,
  PageQuery,
  PoolRepository,
  Store,
  TaskCounts,
  TaskStatistics,
  TaskRecord,
  TaskRepository,
  UsageRepository,
} from '../../core/ports.js';
import { retentionDeadline, type TaskState } from '../../core/task.js';
import { idKey } from '../../core/ids.js';
import { migrate } from './migrations/index.js';
import { NODE_FILTER_COLUMNS, TASK_FILTER_COLUMNS } from './filter-sql.js';
import { decodeContinuation, PageQueries, pageOf, type Row } from './paging.js';
import { numericId, SqliteTaskDependencies } from './task-dependencies.js';
import { SqliteJobNodeStatus } from './job-node-status.js';
import { SqliteUsage } from './usage.js';
import { SqliteFaults } from './injected-faults.js';
import { SqlitePools } from './pools.js';
import { SqliteJobs } from './jobs.js';
import { SqliteNodeRecentTasks } from './node-recent-tasks.js';
import { SqliteJobSchedules } from './job-schedules.js';
import { SqliteApplications } from './applications.js';
import { SqliteCertificates } from './certificates.js';
import { cachedStatement } from './statement-cache.js';
import { internalJson } from './keyed-documents.js';

export function openSqliteStore(options: { path?: string }): Store {
  const file = options.path ?? ':memory:';
  const db = new Database(file);
  if (options.path) {
    // The store holds account data; no other local user should read it.
    fs.chmodSync(options.path, 0o600);
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return new SqliteStore(db);
}

class SqliteStore implements Store {
  /** How deep the current call is in transaction(): nested calls join the outer transaction. */
  private depth = 0;
  readonly pools: PoolRepository;
  readonly nodes: NodeRepository;
  readonly nodeRecentTasks: NodeRecentTaskRepository;
  readonly jobs: JobRepository;
  readonly jobSchedules: JobScheduleRepository;
  readonly jobNodeStatus: JobNodeStatusRepository;
  readonly usage: UsageRepository;
  readonly tasks: TaskRepository;
  readonly certificates: CertificateRepository;
  readonly applications: ApplicationRepository;
  readonly faults: FaultRepository;

  constructor(private readonly db: Database.Database) {
    this.pools = new SqlitePools(db);
    this.nodes = new SqliteNodes(db);
    this.nodeRecentTasks = new SqliteNodeRecentTasks(db);
    this.jobs = new SqliteJobs(db);
    this.jobSchedules = new SqliteJobSchedules(db);
    this.jobNodeStatus = new SqliteJobNodeStatus(db);
    this.usage = new SqliteUsage(db);
    this.tasks = new SqliteTasks(db);
    this.certificates = new SqliteCertificates(db);
    this.applications = new SqliteApplications(db);
    this.faults = new SqliteFaults(db);
  }

  transaction<T>(work: () => T): T {
    if (this.depth > 0) return work();
    // A transaction left open by a failed rollback (a full disk) would swallow every later write: end it first.
    if (this.db.inTransaction) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // Nothing to roll back after all.
      }
    }
    this.depth += 1;
    try {
      return this.db.transaction(work).immediate();
    } finally {
      this.depth -= 1;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

class SqliteNodes implements NodeRepository {
  private readonly getStmt;
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly deleteStmt;
  private readonly byPoolStmt;
  private readonly pages;
  private readonly allStmt;

  constructor(db: Database.Database) {
    this.getStmt = db.prepare('SELECT account, pool_id, doc, internal_json FROM nodes WHERE account = ? AND pool_key = ? AND id = ?');
    this.insertStmt = db.prepare('INSERT INTO nodes (account, pool_key, id, pool_id, doc, internal_json) VALUES (?, ?, ?, ?, ?, ?)');
    this.updateStmt = db.prepare('UPDATE nodes SET doc = ?, internal_json = ? WHERE account = ? AND pool_key = ? AND id = ?');
    this.deleteStmt = db.prepare('DELETE FROM nodes WHERE account = ? AND pool_key = ? AND id = ?');
    this.byPoolStmt = db.prepare('SELECT account, pool_id, doc, internal_json FROM nodes WHERE account = ? AND pool_key = ? ORDER BY id');
    this.pages = new PageQueries(db, 'SELECT account, pool_id, id, doc, internal_json FROM nodes WHERE account = ? AND pool_key = ? AND id > ?', 'ORDER BY id', NODE_FILTER_COLUMNS);
    this.allStmt = db.prepare('SELECT account, pool_id, doc, internal_json FROM nodes');
  }

  private toRecord = (row: Row): NodeRecord => ({
    account: row.account as string,
    poolId: row.pool_id as string,
    node: JSON.parse(row.doc as string),
    internal: row.internal_json ? JSON.parse(row.internal_json as string) : {},
  });

  get(account: string, poolId: string, nodeId: string) {
    const row = this.getStmt.get(account, idKey(poolId), nodeId) as Row | undefined;
    return row && this.toRecord(row);
  }
  insert(record: NodeRecord) {
    this.insertStmt.run(record.account, idKey(record.poolId), record.node.id, record.poolId, JSON.stringify(record.node), internalJson(record.internal));
  }
  update(record: NodeRecord) {
    this.updateStmt.run(JSON.stringify(record.node), internalJson(record.internal), record.account, idKey(record.poolId), record.node.id);
  }
  delete(account: string, poolId: string, nodeId: string) {
    this.deleteStmt.run(account, idKey(poolId), nodeId);
  }
  listByPool(account: string, poolId: string) {
    return (this.byPoolStmt.all(account, idKey(poolId)) as Row[]).map(this.toRecord);
  }
  list(account: string, poolId: string, page: PageQuery) {
    const after = decodeContinuation(page.continuation) ?? '';
    const rows = this.pages.rows([account, idKey(poolId), String(after)], page);
    return pageOf(rows, page.maxResults, this.toRecord, (row) => row.id as string);
  }
  listAll() {
    return (this.allStmt.all() as Row[]).map(this.toRecord);
  }
}

class SqliteTasks implements TaskRepository {
  private readonly getStmt;
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly deleteStmt;
  private readonly deleteByJobStmt;
  private readonly pages;
  private readonly jsonPages;
  private readonly byStateStmt;
  private readonly onNodeStmt;
  private readonly allRunningStmt;
  private readonly countsStmt;
  private readonly accountCountsStmt;
  private readonly stateStmt;
  private readonly retentionDueStmt;
  private readonly statisticsStmt;
  private readonly nextRetentionStmt;
  private readonly nodeRetentionStmt;
  private readonly deleteJobEdgesStmt;
  private readonly deleteJobRangesStmt;
  private readonly deleteJobCountsStmt;
  private readonly dependencies: SqliteTaskDependencies;

  constructor(private readonly db: Database.Database) {
    const columns = 'seq, account, job_id, attempt, doc, internal_json';
    this.getStmt = db.prepare(`SELECT ${columns} FROM tasks WHERE account = ? AND job_key = ? AND key = ?`);
    this.insertStmt = db.prepare(
      'INSERT OR IGNORE INTO tasks (account, job_key, job_id, key, state, result, node_id, attempt, slots, num_id, exit_code, doc, internal_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.updateStmt = db.prepare('UPDATE tasks SET state = ?, result = ?, node_id = ?, attempt = ?, slots = ?, dep_action = ?, retention_until = ?, exit_code = ?, doc = ?, internal_json = ? WHERE seq = ?');
    this.retentionDueStmt = db.prepare(`SELECT ${columns} FROM tasks WHERE retention_until <= ? ORDER BY retention_until LIMIT ?`);
    this.nextRetentionStmt = db.prepare('SELECT min(retention_until) AS at FROM tasks WHERE retention_until IS NOT NULL');
    this.nodeRetentionStmt = db.prepare('SELECT max(retention_until) AS at FROM tasks WHERE retention_until IS NOT NULL AND account = ? AND node_id = ?');
    // Only for $expand=stats: it reads every task document of the job.
    this.statisticsStmt = db.prepare(`
      SELECT sum(result = 'success') AS succeeded, sum(result = 'failure') AS failed,
        sum(coalesce(json_extract(doc, '$.executionInfo.retryCount'), 0)) AS retries,
        sum(CASE WHEN state = 'completed' THEN (julianday(json_extract(doc, '$.executionInfo.endTime')) - julianday(json_extract(doc, '$.executionInfo.startTime'))) * 86400000 ELSE 0 END) AS wall_ms,
        sum(CASE WHEN json_extract(doc, '$.executionInfo.startTime') IS NOT NULL
          THEN (julianday(json_extract(doc, '$.executionInfo.startTime')) - julianday(json_extract(doc, '$.creationTime'))) * 86400000 ELSE 0 END) AS wait_ms
      FROM tasks WHERE account = ? AND job_key = ?`);
    this.dependencies = new SqliteTaskDependencies(db);
    this.deleteStmt = db.prepare('DELETE FROM tasks WHERE account = ? AND job_key = ? AND key = ? RETURNING seq');
    this.deleteByJobStmt = db.prepare('DELETE FROM tasks WHERE account = ? AND job_key = ?');
    this.deleteJobEdgesStmt = db.prepare('DELETE FROM task_dependencies WHERE account = ? AND job_key = ?');
    this.deleteJobRangesStmt = db.prepare('DELETE FROM task_dependency_ranges WHERE account = ? AND job_key = ?');
    this.stateStmt = db.prepare('SELECT state, dep_action FROM tasks WHERE seq = ?');
    this.pages = new PageQueries(db, `SELECT ${columns} FROM tasks WHERE account = ? AND job_key = ? AND seq > ?`, 'ORDER BY seq', TASK_FILTER_COLUMNS);
    this.jsonPages = new PageQueries(db, 'SELECT seq, doc FROM tasks WHERE account = ? AND job_key = ? AND seq > ?', 'ORDER BY seq', TASK_FILTER_COLUMNS);
    this.byStateStmt = db.prepare(`SELECT ${columns} FROM tasks WHERE account = ? AND job_key = ? AND state = ? ORDER BY seq`);
    this.onNodeStmt = db.prepare(`SELECT ${columns} FROM tasks WHERE account = ? AND node_id = ? AND state = 'running'`);
    this.allRunningStmt = db.prepare(`SELECT ${columns} FROM tasks WHERE state = 'running'`);
    // Kept by triggers on tasks (migrations/0010_task_counts.ts): one row per state and result, whatever the job's size.
    this.countsStmt = db.prepare("SELECT state, nullif(result, '') AS result, n, slots FROM task_counts WHERE account = ? AND job_key = ?");
    // The account's rows of task_counts (a few per job), by its primary key's prefix: no task is read.
    this.accountCountsStmt = db.prepare("SELECT state, nullif(result, '') AS result, sum(n) AS n FROM task_counts WHERE account = ? GROUP BY state, result");
    this.deleteJobCountsStmt = db.prepare('DELETE FROM task_counts WHERE account = ? AND job_key = ?');
  }

  private toRecord = (row: Row): TaskRecord => ({
    account: row.account as string,
    jobId: row.job_id as string,
    seq: row.seq as number,
    attempt: row.attempt as number,
    task: JSON.parse(row.doc as string),
    internal: row.internal_json ? JSON.parse(row.internal_json as string) : {},
  });

  get(account: string, jobId: string, taskId: string) {
    const row = this.getStmt.get(account, idKey(jobId), idKey(taskId)) as Row | undefined;
    return row && this.toRecord(row);
  }
  insert(record: Omit<TaskRecord, 'seq'>) {
    const { task } = record;
    const result = this.insertStmt.run(
      record.account,
      idKey(record.jobId),
      record.jobId,
      idKey(task.id),
      task.state,
      task.executionInfo.result ?? null,
      task.nodeInfo?.nodeId ?? null,
      record.attempt,
      task.requiredSlots,
      numericId(task.id),
      task.executionInfo.exitCode ?? null,
      JSON.stringify(task),
      internalJson(record.internal),
    );
    if (result.changes !== 1) return false;
    this.dependencies.add(record.account, record.jobId, Number(result.lastInsertRowid), task);
    // A new task may be a parent, by id or within a range, of tasks added before it.
    this.dependencies.parentChanged(record.account, record.jobId, task.id);
    return true;
  }
  /** Updates a task; its dependents are re-checked when it completes or leaves completion. */
  update(record: TaskRecord) {
    const { task, internal } = record;
    const before = this.stateStmt.get(record.seq) as { state: string; dep_action: string | null } | undefined;
    const depAction = task.state === 'completed' ? (internal.dependencyAction ?? null) : null;
    this.updateStmt.run(
      task.state,
      task.executionInfo.result ?? null,
      task.nodeInfo?.nodeId ?? null,
      record.attempt,
      task.requiredSlots,
      depAction,
      retentionDeadline(task, internal) ?? null,
      task.executionInfo.exitCode ?? null,
      JSON.stringify(task),
      internalJson(internal),
      record.seq,
    );
    if (before && (before.state === 'completed') !== (task.state === 'completed')) {
      this.dependencies.parentChanged(record.account, record.jobId, task.id);
    }
  }
  delete(account: string, jobId: string, taskId: string) {
    const row = this.deleteStmt.get(account, idKey(jobId), idKey(taskId)) as { seq: number } | undefined;
    if (!row) return;
    this.dependencies.remove(row.seq);
    this.dependencies.parentChanged(account, jobId, taskId);
  }
  deleteByJob(account: string, jobId: string) {
    this.deleteByJobStmt.run(account, idKey(jobId));
    this.deleteJobEdgesStmt.run(account, idKey(jobId));
    this.deleteJobRangesStmt.run(account, idKey(jobId));
    this.deleteJobCountsStmt.run(account, idKey(jobId));
  }
  list(account: string, jobId: string, page: PageQuery) {
    const after = Number(decodeContinuation(page.continuation) ?? 0);
    const rows = this.pages.rows([account, idKey(jobId), after], page);
    return pageOf(rows, page.maxResults, this.toRecord, (row) => row.seq as number);
  }
  listJson(account: string, jobId: string, page: PageQuery) {
    const after = Number(decodeContinuation(page.continuation) ?? 0);
    const rows = this.jsonPages.rows([account, idKey(jobId), after], page);
    return pageOf(rows, page.maxResults, (row) => row.doc as string, (row) => row.seq as number);
  }
  listRunnable(account: string, jobIds: string[], limit: number) {
    if (jobIds.length === 0 || limit <= 0) return [];
    const marks = jobIds.map(() => '?').join(',');
    const rows = cachedStatement(
      this.db,
      `SELECT seq, account, job_id, attempt, doc, internal_json FROM tasks WHERE account = ? AND job_key IN (${marks}) AND state = 'active' AND waiting = 0 ORDER BY seq LIMIT ?`,
    ).all(account, ...jobIds.map(idKey), limit) as Row[];
    return rows.map(this.toRecord);
  }
  listByState(account: string, jobId: string, state: TaskState) {
    return (this.byStateStmt.all(account, idKey(jobId), state) as Row[]).map(this.toRecord);
  }
  listRunningOnNode(account: string, nodeId: string) {
    return (this.onNodeStmt.all(account, nodeId) as Row[]).map(this.toRecord);
  }
  listAllRunning() {
    return (this.allRunningStmt.all() as Row[]).map(this.toRecord);
  }
  statistics(account: string, jobId: string): TaskStatistics {
    const row = this.statisticsStmt.get(account, idKey(jobId)) as Row;
    return {
      succeeded: (row.succeeded as number | null) ?? 0,
      failed: (row.failed as number | null) ?? 0,
      retries: (row.retries as number | null) ?? 0,
      wallMs: Math.round((row.wall_ms as number | null) ?? 0),
      waitMs: Math.round((row.wait_ms as number | null) ?? 0),
    };
  }
  listRetentionExpired(now: number, limit: number) {
    return (this.retentionDueStmt.all(now, limit) as Row[]).map(this.toRecord);
  }
  nextRetentionTime(): number | undefined {
    const row = this.nextRetentionStmt.get() as { at: number | null };
    return row.at ?? undefined;
  }
  lastRetentionOnNode(account: string, nodeId: string): number | undefined {
    const row = this.nodeRetentionStmt.get(account, nodeId) as { at: number | null };
    return row.at ?? undefined;
  }
  counts(account: string, jobId: string): { tasks: TaskCounts; slots: TaskCounts } {
    const tasks: TaskCounts = { active: 0, running: 0, completed: 0, succeeded: 0, failed: 0 };
    const slots: TaskCounts = { ...tasks };
    for (const row of this.countsStmt.all(account, idKey(jobId)) as Row[]) {
      addCounts(tasks, row.state as TaskState, row.result as string | null, row.n as number);
      addCounts(slots, row.state as TaskState, row.result as string | null, row.slots as number);
    }
    return { tasks, slots };
  }
  accountCounts(account: string): TaskCounts {
    const tasks: TaskCounts = { active: 0, running: 0, completed: 0, succeeded: 0, failed: 0 };
    for (const row of this.accountCountsStmt.all(account) as Row[]) addCounts(tasks, row.state as TaskState, row.result as string | null, row.n as number);
    return tasks;
  }

}

/** Batch counts preparing tasks as running, and completed ones as succeeded or failed too. */
function addCounts(counts: TaskCounts, state: TaskState, result: string | null, n: number): void {
  if (state === 'active') counts.active += n;
  else if (state === 'running' || state === 'preparing') counts.running += n;
  else if (state === 'completed') {
    counts.completed += n;
    if (result === 'success') counts.succeeded += n;
    else counts.failed += n;
  }
}
