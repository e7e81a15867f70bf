// Rows and keyset paging shared by the SQLite repositories: a page's
// continuation is the opaque position of its last row.

import type Database from 'better-sqlite3';
import type { Page, PageQuery } from '../../core/ports.js';
import { filterToSql } from './filter-sql.js';

export type Row = Record<string, unknown>;

export function encodeContinuation(position: string | number): string {
  return Buffer.from(JSON.stringify({ p: position })).toString('base64url');
}

export function decodeContinuation(token: string | undefined): string | number | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p?: unknown };
    if (typeof parsed.p === 'string' || typeof parsed.p === 'number') return parsed.p;
  } catch {
    // An unreadable token reads as "from the start"; the API validates tokens before this.
  }
  return undefined;
}

export function pageOf<T>(rows: Row[], maxResults: number, toRecord: (row: Row) => T, position: (row: Row) => string | number): Page<T> {
  const more = rows.length > maxResults;
  const kept = more ? rows.slice(0, maxResults) : rows;
  const last = kept[kept.length - 1];
  return {
    items: kept.map(toRecord),
    continuation: more && last ? encodeContinuation(position(last)) : undefined,
  };
}

/** Most distinct filter shapes kept prepared per list; beyond it the cache starts over. */
const MAX_CACHED_STATEMENTS = 256;

/**
 * One list's page query, with an optional `$filter` added to its WHERE
 * clause. Statements are cached by SQL text: it depends on the filter's
 * shape, never on its values, which are bound parameters.
 */
export class PageQueries {
  private readonly statements = new Map<string, Database.Statement>();

  /**
   * @param where `SELECT … FROM … WHERE …` ending in the keyset condition, whose parameters come first
   * @param order `ORDER BY …`; the page size is bound after the filter's parameters
   */
  constructor(
    private readonly db: Database.Database,
    private readonly where: string,
    private readonly order: string,
    private readonly columns?: Readonly<Record<string, string>>,
  ) {}

  rows(params: unknown[], page: PageQuery): Row[] {
    const fragment = page.filter ? filterToSql(page.filter, { columns: this.columns }) : undefined;
    const sql = fragment ? `${this.where} AND (${fragment.sql}) ${this.order} LIMIT ?` : `${this.where} ${this.order} LIMIT ?`;
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement.all(...params, ...(fragment?.params ?? []), page.maxResults + 1) as Row[];
  }
}
