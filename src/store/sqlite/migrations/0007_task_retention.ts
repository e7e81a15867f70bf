// Migration 0007, released: never edit it (test/unit/store-migrations.test.ts
// holds its text); change the schema with a new numbered migration instead.
//
// When a completed task's directory is due for removal (retentionTime), epoch ms.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 7,
  name: 'task_retention',
  sql: `
  ALTER TABLE tasks ADD COLUMN retention_until INTEGER;
  CREATE INDEX tasks_by_retention ON tasks (retention_until) WHERE retention_until IS NOT NULL;
  `,
};
