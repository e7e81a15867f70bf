// Migration 0013: a job schedule's Lapis-only fields live beside its wire
// document. `job_schedules.internal_json` holds the record's internal part
// (NULL when empty); the documents of existing schedules give up `jobCount`
// and `autoPoolId`, which move there.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 13,
  name: 'job_schedule_internal',
  sql: `
  ALTER TABLE job_schedules ADD COLUMN internal_json TEXT;
  UPDATE job_schedules SET
    internal_json = json_patch('{}', json_object('jobCount', doc -> '$.jobCount', 'autoPoolId', doc -> '$.autoPoolId')),
    doc = json_remove(doc, '$.jobCount', '$.autoPoolId')
    WHERE json_type(doc, '$.jobCount') IS NOT NULL OR json_type(doc, '$.autoPoolId') IS NOT NULL;
  `,
};
