// Each node's progress with a job's preparation and release tasks, one JSON
// document per (job, node), and beside it the record's internal part (its
// run attempts) in internal_json.

import type Database from 'better-sqlite3';
import { idKey } from '../../core/ids.js';
import type { JobNodeStatus, JobNodeStatusInternal } from '../../core/job-preparation.js';
import type { JobNodeStatusRecord, JobNodeStatusRepository, PageQuery } from '../../core/ports.js';
import { decodeContinuation, PageQueries, pageOf, type Row } from './paging.js';

export class SqliteJobNodeStatus implements JobNodeStatusRepository {
  private readonly getStmt;
  private readonly putStmt;
  private readonly allStmt;
  private readonly byNodeStmt;
  private readonly deleteStmt;
  private readonly deleteNodeStmt;
  private readonly pages;

  constructor(db: Database.Database) {
    this.getStmt = db.prepare('SELECT doc, internal_json FROM job_node_status WHERE account = ? AND job_key = ? AND node_id = ?');
    this.putStmt = db.prepare('INSERT OR REPLACE INTO job_node_status (account, job_key, node_id, doc, internal_json) VALUES (?, ?, ?, ?, ?)');
    this.allStmt = db.prepare('SELECT doc, internal_json FROM job_node_status WHERE account = ? AND job_key = ? ORDER BY node_id');
    this.byNodeStmt = db.prepare('SELECT job_key, doc FROM job_node_status WHERE account = ? AND node_id = ?');
    this.deleteStmt = db.prepare('DELETE FROM job_node_status WHERE account = ? AND job_key = ?');
    this.deleteNodeStmt = db.prepare('DELETE FROM job_node_status WHERE account = ? AND job_key = ? AND node_id = ?');
    this.pages = new PageQueries(db, 'SELECT node_id, doc FROM job_node_status WHERE account = ? AND job_key = ? AND node_id > ?', 'ORDER BY node_id');
  }

  get(account: string, jobId: string, nodeId: string): JobNodeStatusRecord | undefined {
    const row = this.getStmt.get(account, idKey(jobId), nodeId) as Row | undefined;
    return row && toRecord(row);
  }
  put(account: string, jobId: string, record: JobNodeStatusRecord): void {
    this.putStmt.run(account, idKey(jobId), record.status.nodeId, JSON.stringify(record.status), JSON.stringify(record.internal));
  }
  listByJob(account: string, jobId: string): JobNodeStatusRecord[] {
    return (this.allStmt.all(account, idKey(jobId)) as Row[]).map(toRecord);
  }
  page(account: string, jobId: string, page: PageQuery) {
    const after = String(decodeContinuation(page.continuation) ?? '');
    const rows = this.pages.rows([account, idKey(jobId), after], page);
    return pageOf(rows, page.maxResults, (row) => JSON.parse(row.doc as string) as JobNodeStatus, (row) => row.node_id as string);
  }
  listByNode(account: string, nodeId: string): { jobKey: string; status: JobNodeStatus }[] {
    return (this.byNodeStmt.all(account, nodeId) as Row[]).map((row) => ({ jobKey: row.job_key as string, status: JSON.parse(row.doc as string) as JobNodeStatus }));
  }
  deleteByJob(account: string, jobId: string): void {
    this.deleteStmt.run(account, idKey(jobId));
  }
  delete(account: string, jobKey: string, nodeId: string): void {
    this.deleteNodeStmt.run(account, jobKey, nodeId);
  }
}

function toRecord(row: Row): JobNodeStatusRecord {
  const internal: JobNodeStatusInternal = row.internal_json ? JSON.parse(row.internal_json as string) : { preparationAttempt: 0, releaseAttempt: 0 };
  return { status: JSON.parse(row.doc as string) as JobNodeStatus, internal };
}
