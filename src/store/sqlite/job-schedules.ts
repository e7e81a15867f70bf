// Job schedules in SQLite: a keyed document per schedule
// (keyed-documents.ts) and its internal part, with its state indexed for the
// scheduler's sweep.

import type Database from 'better-sqlite3';
import type { JobSchedule, JobScheduleInternal, JobScheduleState } from '../../core/job-schedule.js';
import type { JobScheduleRecord, JobScheduleRepository } from '../../core/ports.js';
import { SqliteKeyedDocuments } from './keyed-documents.js';

export class SqliteJobSchedules extends SqliteKeyedDocuments<JobSchedule, JobScheduleRecord> implements JobScheduleRepository {
  constructor(db: Database.Database) {
    super(db, {
      table: 'job_schedules',
      record: (account, schedule, internal) => ({ account, schedule, internal: internal as JobScheduleInternal }),
      account: (record) => record.account,
      document: (record) => record.schedule,
      internal: (record) => record.internal,
      columns: { state: (schedule) => schedule.state },
    });
  }

  listByState(states: JobScheduleState[]) {
    return this.listWhereIn('', [], 'state', states);
  }
}
