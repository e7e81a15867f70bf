// Migration 0023: a task's exit code in a column of its own, and the exit
// code index (0021) on that column instead of on json_extract of the
// document. An index on an expression is computed on every insert and every
// update of the row: json_extract parsed each task's whole document each time
// it was written, about 10 µs of the 16-30 µs a task insert cost (bench/README.md,
// "Issue 16's targets"). SqliteTasks writes the column with the document;
// filter-sql.ts maps `executionInfo/exitCode` to it.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 23,
  name: 'tasks_exit_code_column',
  sql: `
  ALTER TABLE tasks ADD COLUMN exit_code INTEGER;
  UPDATE tasks SET exit_code = json_extract(doc, '$.executionInfo.exitCode') WHERE json_extract(doc, '$.executionInfo.exitCode') IS NOT NULL;
  DROP INDEX tasks_by_exit_code;
  CREATE INDEX tasks_by_exit_code ON tasks (account, job_key, exit_code, seq);
  `,
};
