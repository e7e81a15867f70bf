// Migration 0014: a certificate's Lapis-only fields live beside its wire
// document. `certificates.internal_json` holds the record's internal part:
// the ETag and Last-Modified of its answers' headers (Batch's certificate
// bodies have neither) and the format of its data, which the documents of
// existing certificates give up.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 14,
  name: 'certificate_internal',
  sql: `
  ALTER TABLE certificates ADD COLUMN internal_json TEXT;
  UPDATE certificates SET
    internal_json = json_patch('{}', json_object(
      'eTag', doc -> '$.eTag', 'lastModified', doc -> '$.lastModified', 'certificateFormat', doc -> '$.certificateFormat')),
    doc = json_remove(doc, '$.eTag', '$.lastModified', '$.certificateFormat');
  `,
};
