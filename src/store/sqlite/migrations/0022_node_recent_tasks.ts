// Migration 0022: each node's recentTasks (core/node-recent-tasks.ts), one
// row per task (or multi-instance subtask) whose state last changed on the
// node, apart from the node's document: the scheduler reads every node
// document of a pool on each pass, and a list of 10 to 20 entries in it made
// each read and write several times larger. `seq` orders the changes on a
// node; (running, seq) finds the oldest ended entries to drop. A node's rows
// go with it (trigger), as its document does.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 22,
  name: 'node_recent_tasks',
  sql: `
  CREATE TABLE node_recent_tasks (
    account TEXT NOT NULL,
    node_id TEXT NOT NULL,
    entry_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    running INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, node_id, entry_key)
  ) WITHOUT ROWID;
  CREATE INDEX node_recent_tasks_by_change ON node_recent_tasks (account, node_id, running, seq);
  CREATE TRIGGER node_recent_tasks_on_node_delete AFTER DELETE ON nodes BEGIN
    DELETE FROM node_recent_tasks WHERE account = old.account AND node_id = old.id;
  END;
`,
};
