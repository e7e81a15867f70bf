// Migration 0015: a node's status for a job keeps its Lapis-only fields
// beside its wire document. `job_node_status.internal_json` holds the
// record's internal part; the documents of existing statuses give up
// `preparationAttempt` and `releaseAttempt`, which move there.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 15,
  name: 'job_node_status_internal',
  sql: `
  ALTER TABLE job_node_status ADD COLUMN internal_json TEXT;
  UPDATE job_node_status SET
    internal_json = json_object(
      'preparationAttempt', coalesce(doc -> '$.preparationAttempt', 0), 'releaseAttempt', coalesce(doc -> '$.releaseAttempt', 0)),
    doc = json_remove(doc, '$.preparationAttempt', '$.releaseAttempt');
  `,
};
