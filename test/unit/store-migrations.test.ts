// The SQLite store's numbered migrations (src/store/sqlite/migrations/): one
// file per step, numbered in order, never edited once released, and a store
// at any earlier version comes up to the same schema as a fresh one, with
// its data carried along.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { migrate, MIGRATIONS, SCHEMA_VERSION } from '../../src/store/sqlite/migrations/index.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../src/store/sqlite/migrations/', import.meta.url));

/**
 * Every released migration's SQL, by file: stores in the field have run these
 * texts. A new migration adds a line; a line never changes.
 */
const RELEASED: [string, string][] = [
  ['0001_pools_nodes_jobs_tasks', 'f6c338d92cc21039340e393eb4906e2146f99a22f1476319534adccd199ceba8'],
  ['0002_task_slots', '8410a56c0d6329e78c83e958a3a20e6b2ec9da494d0bdab8d5a3f7a74a99a797'],
  ['0003_job_schedules', 'cffed4fb9e0482dd3b5bedd04e1c696ee4c489752e4904331e57739001241ce8'],
  ['0004_task_dependencies', '446061ece574742ca3da6d739be3a4f8845166ad029e3948afd5be32bc626eec'],
  ['0005_job_node_status', '67ca0659aa7dc08811ce5f551827dbee790e862641974dfe722aabe40fa427bb'],
  ['0006_certificates_applications', 'be760642878be0813d0d4c586f9f0e6c4faacdb2a60e4db07bced7fbaa6a4825'],
  ['0007_task_retention', 'e76fc84a11d5c796d83071dbecdc9d52f4456b0d3783e0e3eb777281ae32905f'],
  ['0008_usage', 'b45cdb01dcad195242469a24528df7d825951e701a18d1628bba46a967c5de17'],
  ['0009_task_counts_index', '63ed5a396006809ad10673fe85e1f662938f047c2583fa3870ef53a5d6904898'],
  ['0010_task_counts', 'e1444a1c4cda76d8af99aa8bd385ad76cb20975a024f22b120a8b52d9554adc4'],
  ['0011_pool_internal', '8114f09b855c497b5f2429e6bc924902e1b604358df90b56a47ea017d48e838f'],
  ['0012_job_internal', '616ab143f58e235ec778759ae359714348ed9d373956189b1aedfcc7f90f58ad'],
  ['0013_job_schedule_internal', 'dded29ed14e48b32a7c6cf1f908a028b5db7dd62c36024dd27fc015c688a9443'],
  ['0014_certificate_internal', 'e7a12ef4c743818db219c026c981c155ee6347d99deed27fcde236b13b821a4e'],
  ['0015_job_node_status_internal', '9d10977cb55d1ba19813632b6738e7d784ede527a447b5edac62ac690d9caca0'],
  ['0016_node_internal', '5f54c1bb466782969c1f949ab8a572aea41e3c013808e4e4d938ff296155d61f'],
  ['0017_task_internal', 'dfb55e07b38c3cdf0028aeafc8a108628a822fe23309c2e66df92a29d392ee83'],
  ['0018_task_documents_without_url', '9705689ca6398e6b51bc0c3ff3fcfa9d450df0491c5d100b5bba03d50407747f'],
  ['0019_pool_resource_usage', '930d1833c6af0bfccd345196b03f42a68997b7b1959ce6ae43cb23fdbabbc5df'],
  ['0020_injected_faults', 'c282f663141a339cf50f25bd61236e252f7b81b00121a2835ca1f581bba5beaf'],
  ['0021_tasks_by_exit_code', '3832e42c82e613c2be6616f81e06c1f9db2e9edf54ae5f9e222670f30f39e689'],
  ['0022_node_recent_tasks', '04edc5ae2c26cf5daf6d533974d15b9744108b8f1701b7fc6c0ade1fad074194'],
  ['0023_tasks_exit_code_column', '64d9dac244152cdc431a34bd0577b2069c31968d9d92550edaa77f711c0e6370'],
];

const fileName = (migration: { version: number; name: string }) => `${String(migration.version).padStart(4, '0')}_${migration.name}`;

function schemaOf(db: Database.Database): unknown[] {
  return db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all();
}

/** A database that has taken the first `version` migrations, as the Lapis of that version left it. */
function storeAt(version: number): Database.Database {
  const db = new Database(':memory:');
  for (const migration of MIGRATIONS.slice(0, version)) db.exec(migration.sql);
  db.pragma(`user_version = ${version}`);
  return db;
}

test('one file per migration, numbered 0001, 0002, … in the order they run', () => {
  const files = fs
    .readdirSync(MIGRATIONS_DIR)
    .filter((name) => /^\d{4}_/.test(name))
    .map((name) => path.basename(name, '.ts'))
    .sort();
  assert.deepEqual(files, MIGRATIONS.map(fileName));
  MIGRATIONS.forEach((migration, index) => assert.equal(migration.version, index + 1));
  assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
});

test('released migrations are never edited', () => {
  const current = MIGRATIONS.slice(0, RELEASED.length).map((migration) => [fileName(migration), createHash('sha256').update(migration.sql).digest('hex')]);
  assert.deepEqual(current, RELEASED, 'change the schema with a new migration, not by editing a released one');
});

test('a fresh store takes every migration and records its version; opening it again changes nothing', () => {
  const db = new Database(':memory:');
  migrate(db);
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  const schema = schemaOf(db);
  migrate(db);
  assert.deepEqual(schemaOf(db), schema);
  db.close();
});

test('a store at every earlier version comes up to the fresh schema, its tasks counted and numbered', () => {
  const fresh = storeAt(0);
  migrate(fresh);
  const expected = schemaOf(fresh);
  fresh.close();
  for (let version = 0; version < SCHEMA_VERSION; version += 1) {
    const db = storeAt(version);
    if (version >= 1) {
      const insert = db.prepare("INSERT INTO tasks (account, job_key, job_id, key, state, result, attempt, doc) VALUES ('acct', 'job', 'Job', ?, ?, ?, 0, ?)");
      insert.run('7', 'active', null, JSON.stringify({ id: '7', requiredSlots: 3 }));
      insert.run('done', 'completed', 'success', JSON.stringify({ id: 'done' }));
    }
    migrate(db);
    assert.deepEqual(schemaOf(db), expected, `from version ${version}`);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    if (version >= 1) {
      const counts = db.prepare("SELECT state, result, n, slots FROM task_counts WHERE account = 'acct' AND job_key = 'job' ORDER BY state").all();
      // A store from before 0002 had no slots column: 0002 reads them from the documents.
      const activeSlots = version < 2 ? 3 : 1;
      assert.deepEqual(counts, [
        { state: 'active', result: '', n: 1, slots: activeSlots },
        { state: 'completed', result: 'success', n: 1, slots: 1 },
      ], `from version ${version}`);
      if (version < 4) assert.equal(db.prepare("SELECT num_id FROM tasks WHERE key = '7'").pluck().get(), 7);
    }
    db.close();
  }
});

test('a failing migration leaves the store at the last version it fully took', () => {
  const db = storeAt(9);
  db.exec('CREATE TABLE task_counts (x INTEGER)'); // 0010 cannot create its table now
  assert.throws(() => migrate(db));
  assert.equal(db.pragma('user_version', { simple: true }), 9);
  assert.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'task_counts_on_insert'").pluck().get(), 0);
  db.close();
});

test('a store written by a newer Lapis is refused, not used', () => {
  const db = storeAt(SCHEMA_VERSION);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  assert.throws(() => migrate(db), /schema version/);
  db.close();
});

/** A keyed table's rows: key, document and internal part (null when none), by key. */
function documentsOf(db: Database.Database, table: string): { key: string; doc: unknown; internal: unknown }[] {
  const rows = db.prepare(`SELECT key, doc, internal_json FROM ${table} ORDER BY key`).all() as { key: string; doc: string; internal_json: string | null }[];
  return rows.map((row) => ({ key: row.key, doc: JSON.parse(row.doc), internal: row.internal_json && JSON.parse(row.internal_json) }));
}

test("a store from before the internal parts: Lapis's own fields move from the documents to internal_json, and a task's own url goes", () => {
  const db = storeAt(10);
  const insertPool = db.prepare("INSERT INTO pools (account, key, doc) VALUES ('acct', ?, ?)");
  insertPool.run('resizing', JSON.stringify({ id: 'Resizing', allocationState: 'resizing', resizeDeallocationOption: 'taskcompletion', taskSlotsPerNode: 2 }));
  insertPool.run('plain', JSON.stringify({ id: 'Plain', allocationState: 'steady' }));
  const insertJob = db.prepare("INSERT INTO jobs (account, key, state, doc) VALUES ('acct', ?, ?, ?)");
  insertJob.run('disabling', 'disabling', JSON.stringify({ id: 'Disabling', state: 'disabling', disableTasks: 'wait', priority: 0 }));
  insertJob.run('active', 'active', JSON.stringify({ id: 'Active', state: 'active' }));
  const insertSchedule = db.prepare("INSERT INTO job_schedules (account, key, state, doc) VALUES ('acct', ?, 'active', ?)");
  insertSchedule.run('shared', JSON.stringify({ id: 'Shared', jobCount: 2, state: 'active', autoPoolId: 'auto-1' }));
  insertSchedule.run('fresh', JSON.stringify({ id: 'Fresh', state: 'active', jobCount: 0 }));
  insertSchedule.run('old', JSON.stringify({ id: 'Old', state: 'active' }));
  db.prepare("INSERT INTO certificates (account, key, state, doc, data) VALUES ('acct', 'sha1-ab', 'active', ?, 'MAo=')").run(
    JSON.stringify({ thumbprint: 'AB', thumbprintAlgorithm: 'sha1', state: 'active', eTag: '0x1', lastModified: '2024-01-01T00:00:00.0000000Z', certificateFormat: 'cer', publicData: 'REVS' }),
  );
  db.prepare("INSERT INTO job_node_status (account, job_key, node_id, doc) VALUES ('acct', 'job', 'n1', ?)").run(
    JSON.stringify({ poolId: 'p', nodeId: 'n1', nodeUrl: 'u', preparationAttempt: 2, releaseAttempt: 1, jobPreparationTaskExecutionInfo: { state: 'completed' } }),
  );
  const insertNode = db.prepare("INSERT INTO nodes (account, pool_key, id, pool_id, doc) VALUES ('acct', 'p', ?, 'P', ?)");
  insertNode.run('n1', JSON.stringify({ id: 'n1', state: 'idle', users: [{ name: 'u', isAdmin: false }], startTaskAttempt: 2, startTaskInfo: { state: 'completed' } }));
  insertNode.run('n2', JSON.stringify({ id: 'n2', state: 'leavingpool', retainsTaskData: true }));
  insertNode.run('n3', JSON.stringify({ id: 'n3', state: 'idle' }));
  const insertTask = db.prepare("INSERT INTO tasks (account, job_key, job_id, key, state, result, attempt, doc) VALUES ('acct', 'job', 'Job', ?, ?, ?, 1, ?)");
  const instance = { id: 0, nodeInfo: { nodeId: 'n1' }, state: 'completed', coordinated: true };
  insertTask.run('mpi', 'completed', 'success', JSON.stringify({ id: 'mpi', state: 'completed', slotsHeld: 1, instances: [instance], dependencyAction: 'satisfy', filesCleanedUp: true }));
  insertTask.run('plain', 'active', null, JSON.stringify({ id: 'plain', url: 'sent', state: 'active', exitConditions: { default: { dependencyAction: 'block' } } }));
  migrate(db);
  const tasks = db.prepare('SELECT key, doc, internal_json, dep_action FROM tasks ORDER BY key').all() as { key: string; doc: string; internal_json: string | null }[];
  assert.deepEqual(
    tasks.map((row) => ({ ...row, doc: JSON.parse(row.doc), internal_json: row.internal_json && JSON.parse(row.internal_json) })),
    [
      {
        key: 'mpi',
        doc: { id: 'mpi', state: 'completed' },
        internal_json: { dependencyAction: 'satisfy', filesCleanedUp: true, slotsHeld: 1, instances: [instance] },
        dep_action: null,
      },
      { key: 'plain', doc: { id: 'plain', state: 'active', exitConditions: { default: { dependencyAction: 'block' } } }, internal_json: null, dep_action: null },
    ],
  );
  const nodes = db.prepare('SELECT id, doc, internal_json FROM nodes ORDER BY id').all() as { id: string; doc: string; internal_json: string | null }[];
  assert.deepEqual(
    nodes.map((row) => ({ id: row.id, doc: JSON.parse(row.doc), internal: row.internal_json && JSON.parse(row.internal_json) })),
    [
      { id: 'n1', doc: { id: 'n1', state: 'idle', startTaskInfo: { state: 'completed' } }, internal: { users: [{ name: 'u', isAdmin: false }], startTaskAttempt: 2 } },
      { id: 'n2', doc: { id: 'n2', state: 'leavingpool' }, internal: { retainsTaskData: true } },
      { id: 'n3', doc: { id: 'n3', state: 'idle' }, internal: null },
    ],
  );
  assert.deepEqual(db.prepare('SELECT doc, internal_json FROM job_node_status').all(), [
    {
      doc: JSON.stringify({ poolId: 'p', nodeId: 'n1', nodeUrl: 'u', jobPreparationTaskExecutionInfo: { state: 'completed' } }),
      internal_json: JSON.stringify({ preparationAttempt: 2, releaseAttempt: 1 }),
    },
  ]);
  const pools = db.prepare('SELECT key, doc, internal_json FROM pools ORDER BY key').all() as { key: string; doc: string; internal_json: string | null }[];
  assert.deepEqual(
    pools.map((row) => ({ key: row.key, doc: JSON.parse(row.doc), internal: row.internal_json && JSON.parse(row.internal_json) })),
    [
      { key: 'plain', doc: { id: 'Plain', allocationState: 'steady' }, internal: null },
      { key: 'resizing', doc: { id: 'Resizing', allocationState: 'resizing', taskSlotsPerNode: 2 }, internal: { resizeDeallocationOption: 'taskcompletion' } },
    ],
  );
  assert.deepEqual(documentsOf(db, 'jobs'), [
    { key: 'active', doc: { id: 'Active', state: 'active' }, internal: null },
    { key: 'disabling', doc: { id: 'Disabling', state: 'disabling', priority: 0 }, internal: { disableTasks: 'wait' } },
  ]);
  assert.deepEqual(documentsOf(db, 'job_schedules'), [
    { key: 'fresh', doc: { id: 'Fresh', state: 'active' }, internal: { jobCount: 0 } },
    { key: 'old', doc: { id: 'Old', state: 'active' }, internal: null },
    { key: 'shared', doc: { id: 'Shared', state: 'active' }, internal: { jobCount: 2, autoPoolId: 'auto-1' } },
  ]);
  assert.deepEqual(documentsOf(db, 'certificates'), [
    {
      key: 'sha1-ab',
      doc: { thumbprint: 'AB', thumbprintAlgorithm: 'sha1', state: 'active', publicData: 'REVS' },
      internal: { eTag: '0x1', lastModified: '2024-01-01T00:00:00.0000000Z', certificateFormat: 'cer' },
    },
  ]);
  db.close();
});

test("a store from before the exit code column: completed tasks' exit codes are copied into it, and the exit code filter is served by its index", () => {
  const db = storeAt(22);
  const insertTask = db.prepare("INSERT INTO tasks (account, job_key, job_id, key, state, result, attempt, doc) VALUES ('acct', 'job', 'Job', ?, ?, ?, 1, ?)");
  insertTask.run('failed', 'completed', 'failure', JSON.stringify({ id: 'failed', state: 'completed', executionInfo: { exitCode: 3, result: 'failure' } }));
  insertTask.run('zero', 'completed', 'success', JSON.stringify({ id: 'zero', state: 'completed', executionInfo: { exitCode: 0, result: 'success' } }));
  insertTask.run('waiting', 'active', null, JSON.stringify({ id: 'waiting', state: 'active', executionInfo: { retryCount: 0 } }));
  migrate(db);
  assert.deepEqual(db.prepare('SELECT key, exit_code FROM tasks ORDER BY key').all(), [
    { key: 'failed', exit_code: 3 },
    { key: 'waiting', exit_code: null },
    { key: 'zero', exit_code: 0 },
  ]);
  const plan = db.prepare("EXPLAIN QUERY PLAN SELECT seq FROM tasks WHERE account = 'acct' AND job_key = 'job' AND seq > 0 AND exit_code IS 3 ORDER BY seq").all() as { detail: string }[];
  assert.ok(plan.some((step) => step.detail.includes('tasks_by_exit_code')), JSON.stringify(plan));
  db.close();
});
