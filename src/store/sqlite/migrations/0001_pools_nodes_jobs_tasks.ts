// Migration 0001, released: never edit it (test/unit/store-migrations.test.ts
// holds its text); change the schema with a new numbered migration instead.
//
// Pools, nodes, jobs and tasks: each a JSON document plus the indexed columns
// that lookups, lists and the scheduler need.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 1,
  name: 'pools_nodes_jobs_tasks',
  sql: `
  CREATE TABLE pools (
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, key)
  ) WITHOUT ROWID;

  CREATE TABLE nodes (
    account TEXT NOT NULL,
    pool_key TEXT NOT NULL,
    id TEXT NOT NULL,
    pool_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, pool_key, id)
  ) WITHOUT ROWID;
  CREATE INDEX nodes_by_id ON nodes (account, id);

  CREATE TABLE jobs (
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    pool_key TEXT,
    state TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, key)
  ) WITHOUT ROWID;
  CREATE INDEX jobs_by_pool ON jobs (account, pool_key, state);

  CREATE TABLE tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    job_key TEXT NOT NULL,
    job_id TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL,
    result TEXT,
    node_id TEXT,
    attempt INTEGER NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (account, job_key, key)
  );
  CREATE INDEX tasks_by_job ON tasks (account, job_key, seq);
  CREATE INDEX tasks_by_state ON tasks (account, job_key, state, result);
  CREATE INDEX tasks_runnable ON tasks (account, job_key, seq) WHERE state = 'active';
  CREATE INDEX tasks_running_on_node ON tasks (account, node_id) WHERE state = 'running';
  `,
};
