// The one SQLite repository shape for resources that are a JSON document
// keyed by (account, id): pools, jobs and job schedules. Its table is
//
//   account TEXT, key TEXT (the id lower-cased), doc TEXT (JSON), a few
//   indexed columns computed from the document on every write, and
//   internal_json TEXT (Lapis's own part of the record, beside the wire
//   document; NULL when it is empty) for tables whose shape has `internal`,
//   PRIMARY KEY (account, key)
//
// The document carries its own ETag and Last-Modified: the service sets them
// and checks If-Match in the same transaction before it writes. Statements
// are prepared once; those whose SQL varies with an IN list come from the
// statement cache, and list pages (with a `$filter`) from PageQueries.

import type Database from 'better-sqlite3';
import { idKey } from '../../core/ids.js';
import type { Page, PageQuery } from '../../core/ports.js';
import { decodeContinuation, PageQueries, pageOf, type Row } from './paging.js';
import { cachedStatement } from './statement-cache.js';

export interface KeyedDocumentTable<D extends { id: string }, R> {
  table: string;
  /** The record of a row, from its account, document and internal part ({} when none is stored). */
  record(account: string, doc: D, internal: object): R;
  /** A record's account and document. */
  account(record: R): string;
  document(record: R): D;
  /** A record's internal part, for tables with an internal_json column. */
  internal?(record: R): object;
  /** Columns beside account, key and doc, by name: each written from the document on insert and update. */
  columns?: Readonly<Record<string, (doc: D) => string | number | null>>;
  /** `$filter` properties that a column answers (see filter-sql.ts); the rest are read from the document. */
  filterColumns?: Readonly<Record<string, string>>;
}

export class SqliteKeyedDocuments<D extends { id: string }, R> {
  private readonly columnNames: string[];
  private readonly columnValues: ((doc: D) => string | number | null)[];
  /** The stored columns after the indexed ones: doc, and internal_json when the table has one. */
  private readonly stored: string;
  private readonly getStmt;
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly deleteStmt;
  private readonly allStmt;
  private readonly pages;
  private rangePages?: PageQueries;

  constructor(
    protected readonly db: Database.Database,
    private readonly shape: KeyedDocumentTable<D, R>,
  ) {
    const { table } = shape;
    this.columnNames = Object.keys(shape.columns ?? {});
    this.columnValues = Object.values(shape.columns ?? {});
    const stored = shape.internal ? ['doc', 'internal_json'] : ['doc'];
    this.stored = stored.join(', ');
    const names = ['account', 'key', ...this.columnNames, ...stored];
    this.getStmt = db.prepare(`SELECT account, ${this.stored} FROM ${table} WHERE account = ? AND key = ?`);
    this.insertStmt = db.prepare(`INSERT OR IGNORE INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`);
    const assignments = [...this.columnNames, ...stored].map((name) => `${name} = ?`).join(', ');
    this.updateStmt = db.prepare(`UPDATE ${table} SET ${assignments} WHERE account = ? AND key = ?`);
    this.deleteStmt = db.prepare(`DELETE FROM ${table} WHERE account = ? AND key = ?`);
    this.allStmt = db.prepare(`SELECT account, ${this.stored} FROM ${table}`);
    this.pages = new PageQueries(db, `SELECT account, key, ${this.stored} FROM ${table} WHERE account = ? AND key > ?`, 'ORDER BY key', shape.filterColumns);
  }

  /** The stored values of a record after its indexed columns: its document, and its internal part when the table keeps one. */
  private storedOf(record: R, doc: D): (string | null)[] {
    const json = JSON.stringify(doc);
    return this.shape.internal ? [json, internalJson(this.shape.internal(record))] : [json];
  }

  protected toRecord = (row: Row): R =>
    this.shape.record(row.account as string, JSON.parse(row.doc as string) as D, row.internal_json ? JSON.parse(row.internal_json as string) : {});

  private columnsOf(doc: D): (string | number | null)[] {
    return this.columnValues.map((value) => value(doc));
  }

  get(account: string, id: string): R | undefined {
    const row = this.getStmt.get(account, idKey(id)) as Row | undefined;
    return row && this.toRecord(row);
  }

  /** False, and nothing written, when the account has a document with that id (any case). */
  insert(record: R): boolean {
    const doc = this.shape.document(record);
    return this.insertStmt.run(this.shape.account(record), idKey(doc.id), ...this.columnsOf(doc), ...this.storedOf(record, doc)).changes === 1;
  }

  /** Replaces the document (and its columns); nothing when there is none. */
  update(record: R): void {
    const doc = this.shape.document(record);
    this.updateStmt.run(...this.columnsOf(doc), ...this.storedOf(record, doc), this.shape.account(record), idKey(doc.id));
  }

  delete(account: string, id: string): void {
    this.deleteStmt.run(account, idKey(id));
  }

  /** The account's documents by lower-cased id, a page at a time. */
  list(account: string, page: PageQuery): Page<R> {
    const after = decodeContinuation(page.continuation) ?? '';
    const rows = this.pages.rows([account, String(after)], page);
    return pageOf(rows, page.maxResults, this.toRecord, (row) => row.key as string);
  }

  listAll(): R[] {
    return (this.allStmt.all() as Row[]).map(this.toRecord);
  }

  /** The account's documents whose keys lie strictly between `from` and `below`, a page at a time. */
  protected listKeyRange(account: string, from: string, below: string, page: PageQuery): Page<R> {
    this.rangePages ??= new PageQueries(
      this.db,
      `SELECT account, key, ${this.stored} FROM ${this.shape.table} WHERE account = ? AND key > ? AND key < ?`,
      'ORDER BY key',
      this.shape.filterColumns,
    );
    const after = String(decodeContinuation(page.continuation) ?? from);
    const rows = this.rangePages.rows([account, after, below], page);
    return pageOf(rows, page.maxResults, this.toRecord, (row) => row.key as string);
  }

  /** Documents matching `where` (over the table's columns) and one of `values` in `column`; `where`'s parameters come first. */
  protected listWhereIn(where: string, params: unknown[], column: string, values: readonly string[]): R[] {
    const marks = values.map(() => '?').join(',');
    const conditions = where ? `${where} AND ${column} IN (${marks})` : `${column} IN (${marks})`;
    const rows = cachedStatement(this.db, `SELECT account, ${this.stored} FROM ${this.shape.table} WHERE ${conditions}`).all(...params, ...values) as Row[];
    return rows.map(this.toRecord);
  }
}

/** An internal part as stored: NULL when it has nothing in it. */
export function internalJson(internal: object): string | null {
  for (const key in internal) if ((internal as Record<string, unknown>)[key] !== undefined) return JSON.stringify(internal);
  return null;
}
