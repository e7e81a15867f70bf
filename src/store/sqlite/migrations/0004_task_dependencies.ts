// Migration 0004, released: never edit it (test/unit/store-migrations.test.ts
// holds its text); change the schema with a new numbered migration instead.
//
// Task dependencies: explicit parents and id ranges, each task's numeric id
// for the ranges, how a completed task leaves its dependents, and whether a
// task still waits for its parents.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 4,
  name: 'task_dependencies',
  sql: `
  ALTER TABLE tasks ADD COLUMN num_id INTEGER;
  ALTER TABLE tasks ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE tasks ADD COLUMN dep_action TEXT;
  UPDATE tasks SET num_id = CAST(key AS INTEGER) WHERE key GLOB '[0-9]*' AND key NOT GLOB '*[^0-9]*' AND length(key) <= 15;
  CREATE INDEX tasks_by_number ON tasks (account, job_key, num_id) WHERE num_id IS NOT NULL;
  DROP INDEX tasks_runnable;
  CREATE INDEX tasks_runnable ON tasks (account, job_key, seq) WHERE state = 'active' AND waiting = 0;
  CREATE TABLE task_dependencies (
    account TEXT NOT NULL,
    job_key TEXT NOT NULL,
    task_seq INTEGER NOT NULL,
    parent_key TEXT NOT NULL
  );
  CREATE INDEX task_dependencies_by_parent ON task_dependencies (account, job_key, parent_key);
  CREATE INDEX task_dependencies_by_task ON task_dependencies (task_seq);
  CREATE TABLE task_dependency_ranges (
    account TEXT NOT NULL,
    job_key TEXT NOT NULL,
    task_seq INTEGER NOT NULL,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL
  );
  CREATE INDEX task_dependency_ranges_by_job ON task_dependency_ranges (account, job_key, first);
  CREATE INDEX task_dependency_ranges_by_task ON task_dependency_ranges (task_seq);
  `,
};
