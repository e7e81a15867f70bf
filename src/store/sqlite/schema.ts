// The SQLite schema, as an ordered list of migrations keyed by
// PRAGMA user_version. Each resource is a JSON document plus the indexed
// columns that lookups, lists and the scheduler need. Ids are stored
// lower-cased in `key` columns: Batch ids are unique without regard to case.

import { CERTIFICATES_AND_APPLICATIONS_MIGRATION } from './migrations-certificates-applications.js';
import { TASK_COUNTS_MIGRATION } from './migrations-task-counts.js';

export const MIGRATIONS: string[] = [
  `
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
  // Task slot counts (Job_GetTaskCounts) without parsing every document.
  `
  ALTER TABLE tasks ADD COLUMN slots INTEGER NOT NULL DEFAULT 1;
  UPDATE tasks SET slots = coalesce(json_extract(doc, '$.requiredSlots'), 1);
  `,
  // Job schedules; their jobs live in `jobs` with ids `{scheduleId}:job-{n}`.
  `
  CREATE TABLE job_schedules (
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, key)
  ) WITHOUT ROWID;
  CREATE INDEX job_schedules_by_state ON job_schedules (state);
  `,
  // Task dependencies: explicit parents and id ranges, each task's numeric id
  // for the ranges, how a completed task leaves its dependents, and whether a
  // task still waits for its parents.
  `
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
  // Each node's progress with a job's preparation and release tasks.
  `
  CREATE TABLE job_node_status (
    account TEXT NOT NULL,
    job_key TEXT NOT NULL,
    node_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, job_key, node_id)
  ) WITHOUT ROWID;
  CREATE INDEX job_node_status_by_node ON job_node_status (account, node_id);
  `,
  // Certificates (data and password in columns of their own) and application packages.
  CERTIFICATES_AND_APPLICATIONS_MIGRATION,
  // When a completed task's directory is due for removal (retentionTime), epoch ms.
  `
  ALTER TABLE tasks ADD COLUMN retention_until INTEGER;
  CREATE INDEX tasks_by_retention ON tasks (retention_until) WHERE retention_until IS NOT NULL;
  `,
  // Usage: each node's lifetime (pool usage metrics, lifetime pool statistics)
  // and each account's completed tasks (lifetime job statistics).
  `
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
  // Job_GetTaskCounts from an index alone: counts and slots by state and result.
  `
  CREATE INDEX tasks_counts ON tasks (account, job_key, state, result, slots);
  `,
  // Job_GetTaskCounts from a table of counts per job that triggers keep.
  TASK_COUNTS_MIGRATION,
];
