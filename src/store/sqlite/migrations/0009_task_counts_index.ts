// Migration 0009, released: never edit it (test/unit/store-migrations.test.ts
// holds its text); change the schema with a new numbered migration instead.
//
// Job_GetTaskCounts from an index alone: counts and slots by state and result.
// (Migration 0010 drops this index again for a table of counts.)

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 9,
  name: 'task_counts_index',
  sql: `
  CREATE INDEX tasks_counts ON tasks (account, job_key, state, result, slots);
  `,
};
