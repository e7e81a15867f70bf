// Rows and keyset paging shared by the SQLite repositories: a page's
// continuation is the opaque position of its last row.

import type { Page } from '../../core/ports.js';

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
