// Migration 0006, released: never edit it (test/unit/store-migrations.test.ts
// holds its text); change the schema with a new numbered migration instead.
//
// Certificates and applications. A certificate is its wire document plus, in
// columns of their own that no list or answer reads, its data and password.
// Applications and their package versions are plain columns: the operator
// registers them, Application_List and Application_Get read them.

import type { Migration } from './migration.js';

export const migration: Migration = {
  version: 6,
  name: 'certificates_applications',
  sql: `
  CREATE TABLE certificates (
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL,
    doc TEXT NOT NULL,
    data TEXT NOT NULL,
    password TEXT,
    PRIMARY KEY (account, key)
  ) WITHOUT ROWID;
  CREATE INDEX certificates_by_state ON certificates (state);

  CREATE TABLE applications (
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    id TEXT NOT NULL,
    display_name TEXT,
    default_version TEXT,
    etag TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    PRIMARY KEY (account, key)
  ) WITHOUT ROWID;

  CREATE TABLE application_packages (
    account TEXT NOT NULL,
    app_key TEXT NOT NULL,
    version_key TEXT NOT NULL,
    application_id TEXT NOT NULL,
    version TEXT NOT NULL,
    format TEXT NOT NULL,
    path TEXT NOT NULL,
    state TEXT NOT NULL,
    last_activation_time TEXT NOT NULL,
    PRIMARY KEY (account, app_key, version_key),
    FOREIGN KEY (account, app_key) REFERENCES applications (account, key) ON DELETE CASCADE
  ) WITHOUT ROWID;
  `,
};
