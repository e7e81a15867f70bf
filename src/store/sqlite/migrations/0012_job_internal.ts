// Migration 0012: a job's Lapis-only fields live beside its wire document.
// `jobs.internal_json` holds the record's internal part (NULL when empty);
// the documents of existing jobs give up `disableTasks`, which moves there.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 12,
  name: 'job_internal',
  sql: `
  ALTER TABLE jobs ADD COLUMN internal_json TEXT;
  UPDATE jobs SET
    internal_json = json_object('disableTasks', doc -> '$.disableTasks'),
    doc = json_remove(doc, '$.disableTasks')
    WHERE json_type(doc, '$.disableTasks') IS NOT NULL;
  `,
};
