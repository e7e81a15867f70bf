// Migration 0003, released: never edit it (test/unit/store-migrations.test.ts
// holds its text); change the schema with a new numbered migration instead.
//
// Job schedules; their jobs live in `jobs` with ids `{scheduleId}:job-{n}`.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 3,
  name: 'job_schedules',
  sql: `
  CREATE TABLE job_schedules (
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, key)
  ) WITHOUT ROWID;
  CREATE INDEX job_schedules_by_state ON job_schedules (state);
  `,
};
