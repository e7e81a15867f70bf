// Pools in SQLite: a keyed document per pool (keyed-documents.ts) and its
// internal part; pool lists filter on the document.

import type Database from 'better-sqlite3';
import type { Pool, PoolInternal } from '../../core/pool.js';
import type { PoolRecord, PoolRepository } from '../../core/ports.js';
import { SqliteKeyedDocuments } from './keyed-documents.js';

export class SqlitePools extends SqliteKeyedDocuments<Pool, PoolRecord> implements PoolRepository {
  constructor(db: Database.Database) {
    super(db, {
      table: 'pools',
      record: (account, pool, internal) => ({ account, pool, internal: internal as PoolInternal }),
      account: (record) => record.account,
      document: (record) => record.pool,
      internal: (record) => record.internal,
    });
  }
}
