// Migration 0017: a task's Lapis-only fields live beside its wire document.
// `tasks.internal_json` holds the record's internal part (NULL when empty);
// the documents of existing tasks give up `dependencyAction`,
// `filesCleanedUp`, `slotsHeld` and `instances` (each instance with its
// `coordinated` flag), which move there (json_patch leaves out the absent
// ones). The dep_action and retention_until columns already hold what they
// were read from.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 17,
  name: 'task_internal',
  sql: `
  ALTER TABLE tasks ADD COLUMN internal_json TEXT;
  UPDATE tasks SET
    internal_json = json_patch('{}', json_object(
      'dependencyAction', doc -> '$.dependencyAction', 'filesCleanedUp', doc -> '$.filesCleanedUp',
      'slotsHeld', doc -> '$.slotsHeld', 'instances', doc -> '$.instances')),
    doc = json_remove(doc, '$.dependencyAction', '$.filesCleanedUp', '$.slotsHeld', '$.instances')
    WHERE json_type(doc, '$.dependencyAction') IS NOT NULL OR json_type(doc, '$.filesCleanedUp') IS NOT NULL
      OR json_type(doc, '$.slotsHeld') IS NOT NULL OR json_type(doc, '$.instances') IS NOT NULL;
  `,
};
