// Migration 0002, released: never edit it (test/unit/store-migrations.test.ts
// holds its text); change the schema with a new numbered migration instead.
//
// Task slot counts (Job_GetTaskCounts) without parsing every document.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 2,
  name: 'task_slots',
  sql: `
  ALTER TABLE tasks ADD COLUMN slots INTEGER NOT NULL DEFAULT 1;
  UPDATE tasks SET slots = coalesce(json_extract(doc, '$.requiredSlots'), 1);
  `,
};
