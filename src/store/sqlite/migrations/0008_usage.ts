// Migration 0008, released: never edit it (test/unit/store-migrations.test.ts
// holds its text); change the schema with a new numbered migration instead.
//
// Usage: each node's lifetime (pool usage metrics, lifetime pool statistics)
// and each account's completed tasks (lifetime job statistics).

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 8,
  name: 'usage',
  sql: `
  CREATE TABLE node_usage (
    account TEXT NOT NULL,
    pool_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    vm_size TEXT NOT NULL,
    dedicated INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    PRIMARY KEY (account, node_id)
  ) WITHOUT ROWID;
  CREATE INDEX node_usage_by_time ON node_usage (account, start_ms);
  CREATE TABLE account_task_stats (
    account TEXT PRIMARY KEY,
    succeeded INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    retries INTEGER NOT NULL,
    wall_ms INTEGER NOT NULL,
    wait_ms INTEGER NOT NULL,
    first_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
};
