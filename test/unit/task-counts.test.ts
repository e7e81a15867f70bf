import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { MIGRATIONS, type Migration } from '../../src/store/sqlite/migrations/index.js';
import { migration as TASK_COUNTS_MIGRATION } from '../../src/store/sqlite/migrations/0010_task_counts.js';

// task_counts is kept by triggers; it must always equal counting the tasks themselves.
const COUNTED = `SELECT account, job_key, state, coalesce(result, '') AS result, count(*) AS n, sum(slots) AS slots
  FROM tasks GROUP BY account, job_key, state, coalesce(result, '') ORDER BY 1, 2, 3, 4`;
const KEPT = 'SELECT account, job_key, state, result, n, slots FROM task_counts WHERE n <> 0 ORDER BY 1, 2, 3, 4';

const STATES = ['active', 'preparing', 'running', 'completed'] as const;
const RESULTS = [null, 'success', 'failure'] as const;

function database(migrations: readonly Migration[]): Database.Database {
  const db = new Database(':memory:');
  for (const migration of migrations) db.exec(migration.sql);
  return db;
}

function insertTask(db: Database.Database, job: string, key: string, state: string, result: string | null, slots: number): void {
  db.prepare(
    "INSERT OR IGNORE INTO tasks (account, job_key, job_id, key, state, result, attempt, slots, doc) VALUES ('acct', ?, ?, ?, ?, ?, 0, ?, '{}')",
  ).run(job, job, key, state, result, slots);
}

test('the migration counts the tasks of an existing data directory', () => {
  const at = MIGRATIONS.indexOf(TASK_COUNTS_MIGRATION);
  const db = database(MIGRATIONS.slice(0, at));
  insertTask(db, 'a', 't1', 'active', null, 1);
  insertTask(db, 'a', 't2', 'active', null, 3);
  insertTask(db, 'a', 't3', 'completed', 'failure', 2);
  insertTask(db, 'b', 't1', 'running', null, 1);
  for (const migration of MIGRATIONS.slice(at)) db.exec(migration.sql);
  assert.deepEqual(db.prepare(KEPT).all(), db.prepare(COUNTED).all());
  assert.equal((db.prepare(KEPT).all() as unknown[]).length, 3);
  db.close();
});

test('property: inserts, state changes and deletes keep the counts exact', () => {
  const key = fc.constantFrom('t1', 't2', 'T2', 't3');
  const job = fc.constantFrom('a', 'b');
  const change = fc.oneof(
    fc.record({ op: fc.constant('insert' as const), job, key, state: fc.constantFrom(...STATES), result: fc.constantFrom(...RESULTS), slots: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ op: fc.constant('update' as const), job, key, state: fc.constantFrom(...STATES), result: fc.constantFrom(...RESULTS), slots: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ op: fc.constant('waiting' as const), job, key }),
    fc.record({ op: fc.constant('delete' as const), job, key }),
    fc.record({ op: fc.constant('deleteJob' as const), job }),
  );
  fc.assert(
    fc.property(fc.array(change, { maxLength: 30 }), (changes) => {
      const db = database(MIGRATIONS);
      for (const c of changes) {
        if (c.op === 'insert') insertTask(db, c.job, c.key, c.state, c.result, c.slots);
        else if (c.op === 'update') db.prepare('UPDATE tasks SET state = ?, result = ?, slots = ? WHERE job_key = ? AND key = ?').run(c.state, c.result, c.slots, c.job, c.key);
        else if (c.op === 'waiting') db.prepare('UPDATE tasks SET waiting = 1 WHERE job_key = ? AND key = ?').run(c.job, c.key);
        else if (c.op === 'delete') db.prepare('DELETE FROM tasks WHERE job_key = ? AND key = ?').run(c.job, c.key);
        else db.prepare('DELETE FROM tasks WHERE job_key = ?').run(c.job);
      }
      assert.deepEqual(db.prepare(KEPT).all(), db.prepare(COUNTED).all());
      db.close();
    }),
    { numRuns: 300 },
  );
});
