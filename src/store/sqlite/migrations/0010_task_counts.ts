// Migration 0010, released: never edit it (test/unit/store-migrations.test.ts
// holds its text); change the schema with a new numbered migration instead.
//
// Job_GetTaskCounts in constant time: each job's tasks and slots by state and
// result live in `task_counts`, kept by triggers on `tasks`. A trigger runs
// inside the statement that changed the task, so the counts commit, roll back
// and survive a crash exactly as the tasks do, whichever code path wrote them.
// `result` is '' while a task has none (a primary key column cannot hold NULL
// usefully). Rows that fall to zero stay until their job is deleted; they add
// nothing to a count. A row is made with INSERT OR IGNORE and then counted by
// UPDATE: an upsert (ON CONFLICT DO UPDATE) cost a third more per task insert.
//
// It also replaces the (state, result) index, which only the old counts query
// needed, by (state, seq): state lists and `state eq …` filters read their
// rows in submission order from it and stop at the page size.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 10,
  name: 'task_counts',
  sql: `
  CREATE TABLE task_counts (
    account TEXT NOT NULL,
    job_key TEXT NOT NULL,
    state TEXT NOT NULL,
    result TEXT NOT NULL,
    n INTEGER NOT NULL,
    slots INTEGER NOT NULL,
    PRIMARY KEY (account, job_key, state, result)
  ) WITHOUT ROWID;
  INSERT INTO task_counts (account, job_key, state, result, n, slots)
    SELECT account, job_key, state, coalesce(result, ''), count(*), sum(slots) FROM tasks
    GROUP BY account, job_key, state, coalesce(result, '');

  CREATE TRIGGER task_counts_on_insert AFTER INSERT ON tasks BEGIN
    INSERT OR IGNORE INTO task_counts (account, job_key, state, result, n, slots)
      VALUES (new.account, new.job_key, new.state, coalesce(new.result, ''), 0, 0);
    UPDATE task_counts SET n = n + 1, slots = slots + new.slots
      WHERE account = new.account AND job_key = new.job_key AND state = new.state AND result = coalesce(new.result, '');
  END;
  CREATE TRIGGER task_counts_on_delete AFTER DELETE ON tasks BEGIN
    UPDATE task_counts SET n = n - 1, slots = slots - old.slots
      WHERE account = old.account AND job_key = old.job_key AND state = old.state AND result = coalesce(old.result, '');
  END;
  CREATE TRIGGER task_counts_on_update AFTER UPDATE OF state, result, slots ON tasks
    WHEN old.state IS NOT new.state OR old.result IS NOT new.result OR old.slots IS NOT new.slots BEGIN
    UPDATE task_counts SET n = n - 1, slots = slots - old.slots
      WHERE account = old.account AND job_key = old.job_key AND state = old.state AND result = coalesce(old.result, '');
    INSERT OR IGNORE INTO task_counts (account, job_key, state, result, n, slots)
      VALUES (new.account, new.job_key, new.state, coalesce(new.result, ''), 0, 0);
    UPDATE task_counts SET n = n + 1, slots = slots + new.slots
      WHERE account = new.account AND job_key = new.job_key AND state = new.state AND result = coalesce(new.result, '');
  END;

  DROP INDEX tasks_counts;
  DROP INDEX tasks_by_state;
  CREATE INDEX tasks_by_state ON tasks (account, job_key, state, seq);
`,
};
