// Migration 0011: a pool's Lapis-only fields live beside its wire document.
// `pools.internal_json` holds the record's internal part (NULL when empty);
// the documents of existing pools give up `resizeDeallocationOption`, which
// moves there.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 11,
  name: 'pool_internal',
  sql: `
  ALTER TABLE pools ADD COLUMN internal_json TEXT;
  UPDATE pools SET
    internal_json = json_object('resizeDeallocationOption', doc -> '$.resizeDeallocationOption'),
    doc = json_remove(doc, '$.resizeDeallocationOption')
    WHERE json_type(doc, '$.resizeDeallocationOption') IS NOT NULL;
  `,
};
