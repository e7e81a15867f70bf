// The SQLite schema: numbered migrations, applied in order and recorded in
// `PRAGMA user_version` (the number of migrations a store has taken).
//
// A released migration is never edited, renamed or removed: stores in the
// field have run it, and only the migrations after their version run again.
// A change to the schema is a new file `NNNN_what.ts` (the next number) and
// one line below; test/unit/store-migrations.test.ts checks the numbering,
// holds every released migration's text, and brings a store of each earlier
// version up to the same schema as a fresh one.
//
// Each resource is a JSON document plus the indexed columns that lookups,
// lists and the scheduler need. Ids are stored lower-cased in `key` columns:
// Batch ids are unique without regard to case.

import type Database from 'better-sqlite3';
import type { Migration } from './migration.js';
import { migration as m0001 } from './0001_pools_nodes_jobs_tasks.js';
import { migration as m0002 } from './0002_task_slots.js';
import { migration as m0003 } from './0003_job_schedules.js';
import { migration as m0004 } from './0004_task_dependencies.js';
import { migration as m0005 } from './0005_job_node_status.js';
import { migration as m0006 } from './0006_certificates_applications.js';
import { migration as m0007 } from './0007_task_retention.js';
import { migration as m0008 } from './0008_usage.js';
import { migration as m0009 } from './0009_task_counts_index.js';
import { migration as m0010 } from './0010_task_counts.js';
import { migration as m0011 } from './0011_pool_internal.js';
import { migration as m0012 } from './0012_job_internal.js';
import { migration as m0013 } from './0013_job_schedule_internal.js';
import { migration as m0014 } from './0014_certificate_internal.js';
import { migration as m0015 } from './0015_job_node_status_internal.js';
import { migration as m0016 } from './0016_node_internal.js';
import { migration as m0017 } from './0017_task_internal.js';
import { migration as m0018 } from './0018_task_documents_without_url.js';
import { migration as m0019 } from './0019_pool_resource_usage.js';
import { migration as m0020 } from './0020_injected_faults.js';
import { migration as m0021 } from './0021_tasks_by_exit_code.js';
import { migration as m0022 } from './0022_node_recent_tasks.js';
import { migration as m0023 } from './0023_tasks_exit_code_column.js';

export type { Migration } from './migration.js';

export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007, m0008, m0009, m0010, m0011, m0012, m0013, m0014, m0015, m0016, m0017, m0018, m0019, m0020, m0021, m0022, m0023];

/** The schema version of a store that has taken every migration. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to SCHEMA_VERSION: each migration it has not taken, in
 * order, in a transaction with its new user_version, so a crash leaves it at
 * a version it fully has. A store of a newer Lapis (a higher version) is
 * refused rather than used with a schema this code does not know.
 */
export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `The store ${db.name} has schema version ${version}; this Lapis knows versions up to ${SCHEMA_VERSION}. Open it with the Lapis that wrote it, or a newer one.`,
    );
  }
  for (const migration of MIGRATIONS.slice(version)) {
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}
