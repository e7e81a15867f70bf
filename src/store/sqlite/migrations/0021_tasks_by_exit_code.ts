// Migration 0021: the tasks of a job by exit code, for `$filter=executionInfo/exitCode eq N`
// (the dashboard's exit code filter, and any client's). The expression is the
// one filter-sql.ts writes for the property, so SQLite matches the index to
// the filter; with the keyset (seq) last, a page of a 100,000-task job reads
// only its own rows instead of every task's document.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 21,
  name: 'tasks_by_exit_code',
  sql: `
  CREATE INDEX tasks_by_exit_code ON tasks (account, job_key, json_extract(doc, '$.executionInfo.exitCode'), seq);
  `,
};
