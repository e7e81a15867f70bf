// Job schedules in SQLite: a JSON document per schedule, with its state
// indexed for the scheduler's sweep.

import type Database from 'better-sqlite3';
import type { JobScheduleState } from '../../core/job-schedule.js';
import { idKey } from '../../core/ids.js';
import type { JobScheduleRecord, JobScheduleRepository, PageQuery } from '../../core/ports.js';
import { decodeContinuation, PageQueries, pageOf, type Row } from './paging.js';
import { cachedStatement } from './statement-cache.js';

export class SqliteJobSchedules implements JobScheduleRepository {
  private readonly getStmt;
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly deleteStmt;
  private readonly pages;

  constructor(private readonly db: Database.Database) {
    this.getStmt = db.prepare('SELECT account, doc FROM job_schedules WHERE account = ? AND key = ?');
    this.insertStmt = db.prepare('INSERT OR IGNORE INTO job_schedules (account, key, state, doc) VALUES (?, ?, ?, ?)');
    this.updateStmt = db.prepare('UPDATE job_schedules SET state = ?, doc = ? WHERE account = ? AND key = ?');
    this.deleteStmt = db.prepare('DELETE FROM job_schedules WHERE account = ? AND key = ?');
    this.pages = new PageQueries(db, 'SELECT account, key, doc FROM job_schedules WHERE account = ? AND key > ?', 'ORDER BY key');
  }

  private toRecord = (row: Row): JobScheduleRecord => ({ account: row.account as string, schedule: JSON.parse(row.doc as string) });

  get(account: string, scheduleId: string) {
    const row = this.getStmt.get(account, idKey(scheduleId)) as Row | undefined;
    return row && this.toRecord(row);
  }
  insert(record: JobScheduleRecord) {
    const { schedule } = record;
    return this.insertStmt.run(record.account, idKey(schedule.id), schedule.state, JSON.stringify(schedule)).changes === 1;
  }
  update(record: JobScheduleRecord) {
    const { schedule } = record;
    this.updateStmt.run(schedule.state, JSON.stringify(schedule), record.account, idKey(schedule.id));
  }
  delete(account: string, scheduleId: string) {
    this.deleteStmt.run(account, idKey(scheduleId));
  }
  list(account: string, page: PageQuery) {
    const after = decodeContinuation(page.continuation) ?? '';
    const rows = this.pages.rows([account, String(after)], page);
    return pageOf(rows, page.maxResults, this.toRecord, (row) => row.key as string);
  }
  listByState(states: JobScheduleState[]) {
    const marks = states.map(() => '?').join(',');
    return (cachedStatement(this.db, `SELECT account, doc FROM job_schedules WHERE state IN (${marks})`).all(...states) as Row[]).map(this.toRecord);
  }
}
