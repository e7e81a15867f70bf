// Migration 0020: the faults injected through /lapis/faults (lapis serve
// --faults) that act on runs and allocations, kept so that a restarted
// server still has them (server/injected-faults.ts). One JSON document per
// fault, as the API answers it.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 20,
  name: 'injected_faults',
  sql: `
  CREATE TABLE injected_faults (
    account TEXT NOT NULL,
    id TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (account, id)
  ) WITHOUT ROWID;
  `,
};
