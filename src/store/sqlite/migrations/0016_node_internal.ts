// Migration 0016: a node's Lapis-only fields live beside its wire document.
// `nodes.internal_json` holds the record's internal part (NULL when empty);
// the documents of existing nodes give up `users`, `startTaskAttempt` and
// `retainsTaskData`, which move there (json_patch leaves out the absent ones).

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 16,
  name: 'node_internal',
  sql: `
  ALTER TABLE nodes ADD COLUMN internal_json TEXT;
  UPDATE nodes SET
    internal_json = json_patch('{}', json_object(
      'users', doc -> '$.users', 'startTaskAttempt', doc -> '$.startTaskAttempt', 'retainsTaskData', doc -> '$.retainsTaskData')),
    doc = json_remove(doc, '$.users', '$.startTaskAttempt', '$.retainsTaskData')
    WHERE json_type(doc, '$.users') IS NOT NULL OR json_type(doc, '$.startTaskAttempt') IS NOT NULL OR json_type(doc, '$.retainsTaskData') IS NOT NULL;
  `,
};
