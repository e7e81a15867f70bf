// Jobs in SQLite: a keyed document per job (keyed-documents.ts) and its
// internal part, with the key of the pool its tasks run on and its state
// indexed for the scheduler.

import type Database from 'better-sqlite3';
import { idKey } from '../../core/ids.js';
import type { Job, JobInternal, JobState } from '../../core/job.js';
import type { JobRecord, JobRepository, PageQuery } from '../../core/ports.js';
import { JOB_FILTER_COLUMNS } from './filter-sql.js';
import { SqliteKeyedDocuments } from './keyed-documents.js';

/** The pool the job's tasks run on: its own auto pool or poolInfo.poolId. */
function poolKey(job: Job): string | null {
  const poolId = job.executionInfo.poolId ?? job.poolInfo.poolId;
  return poolId ? idKey(poolId) : null;
}

export class SqliteJobs extends SqliteKeyedDocuments<Job, JobRecord> implements JobRepository {
  // Reads jobs_by_pool (account, pool_key, state) alone: no job document is read.
  private readonly countByStateStmt;

  constructor(db: Database.Database) {
    super(db, {
      table: 'jobs',
      record: (account, job, internal) => ({ account, job, internal: internal as JobInternal }),
      account: (record) => record.account,
      document: (record) => record.job,
      internal: (record) => record.internal,
      columns: { pool_key: poolKey, state: (job) => job.state },
      filterColumns: JOB_FILTER_COLUMNS,
    });
    this.countByStateStmt = db.prepare('SELECT state, count(*) AS n FROM jobs WHERE account = ? GROUP BY state');
  }

  countByState(account: string): Partial<Record<JobState, number>> {
    const rows = this.countByStateStmt.all(account) as { state: JobState; n: number }[];
    return Object.fromEntries(rows.map((row) => [row.state, row.n]));
  }

  listFromSchedule(account: string, scheduleId: string, page: PageQuery) {
    // Keys `{schedule}:job-…` sort between `{schedule}:job-` and `{schedule}:job.` ('.' follows '-').
    return this.listKeyRange(account, `${idKey(scheduleId)}:job-`, `${idKey(scheduleId)}:job.`, page);
  }
  listByPool(account: string, poolId: string, states: JobState[]) {
    return this.listWhereIn('account = ? AND pool_key = ?', [account, idKey(poolId)], 'state', states);
  }
  listByState(states: JobState[]) {
    return this.listWhereIn('', [], 'state', states);
  }
}
