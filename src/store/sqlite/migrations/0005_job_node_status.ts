// Migration 0005, released: never edit it (test/unit/store-migrations.test.ts
// holds its text); change the schema with a new numbered migration instead.
//
// Each node's progress with a job's preparation and release tasks.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 5,
  name: 'job_node_status',
  sql: `
  CREATE TABLE job_node_status (
    account TEXT NOT NULL,
    job_key TEXT NOT NULL,
    node_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, job_key, node_id)
  ) WITHOUT ROWID;
  CREATE INDEX job_node_status_by_node ON job_node_status (account, node_id);
  `,
};
