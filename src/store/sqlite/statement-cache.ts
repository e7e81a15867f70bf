// Prepared statements for SQL built at call time (an IN list with one `?`
// per value): preparing costs more than running these small queries, and
// the scheduler runs them on every pass. The SQL text varies only with the
// number of values, so a handful of statements per database cover them all.

import type Database from 'better-sqlite3';

/** Bounds the cache should some caller build SQL with many shapes. */
const MAX_STATEMENTS_PER_DATABASE = 200;

const cache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** The prepared statement for `sql`, prepared on first use. */
export function cachedStatement(db: Database.Database, sql: string): Database.Statement {
  let statements = cache.get(db);
  if (!statements) {
    statements = new Map();
    cache.set(db, statements);
  }
  let statement = statements.get(sql);
  if (!statement) {
    if (statements.size >= MAX_STATEMENTS_PER_DATABASE) statements.clear();
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
}
