// Migration 0019: each pool's resource totals, summed from its nodes' usage
// samples (core/node-usage.ts), the source of the resource figures of pool
// lifetime statistics. Time-weighted sums (figure × ms) give the averages.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 19,
  name: 'pool_resource_usage',
  sql: `
  CREATE TABLE pool_resource_usage (
    account TEXT NOT NULL,
    pool_id TEXT NOT NULL,
    sampled_ms REAL NOT NULL,
    cpu_percent_ms REAL NOT NULL,
    memory_byte_ms REAL NOT NULL,
    peak_memory_bytes REAL NOT NULL,
    disk_byte_ms REAL NOT NULL,
    peak_disk_bytes REAL NOT NULL,
    disk_read_bytes REAL NOT NULL,
    disk_write_bytes REAL NOT NULL,
    disk_read_ops REAL NOT NULL,
    disk_write_ops REAL NOT NULL,
    network_in_bytes REAL NOT NULL,
    network_out_bytes REAL NOT NULL,
    first_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    PRIMARY KEY (account, pool_id)
  ) WITHOUT ROWID;
  `,
};
