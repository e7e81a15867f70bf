// Applications and their package versions in SQLite. Ids and versions are
// unique without regard to case (lower-cased `key` and `version_key`); a
// package row belongs to its application row and goes with it.

import type Database from 'better-sqlite3';
import { versionKey, type Application, type ApplicationPackage, type ApplicationPackageFormat } from '../../core/application.js';
import { idKey } from '../../core/ids.js';
import type { ApplicationRecord, ApplicationRepository, PageQuery } from '../../core/ports.js';
import { decodeContinuation, PageQueries, pageOf, type Row } from './paging.js';

const APPLICATION_COLUMNS = 'account, key, id, display_name, default_version, etag, last_modified';
const PACKAGE_COLUMNS = 'application_id, version, format, path, state, last_activation_time';

function toApplication(row: Row): Application {
  const application: Application = { id: row.id as string, eTag: row.etag as string, lastModified: row.last_modified as string };
  if (row.display_name !== null) application.displayName = row.display_name as string;
  if (row.default_version !== null) application.defaultVersion = row.default_version as string;
  return application;
}

function toPackage(row: Row): ApplicationPackage {
  return {
    applicationId: row.application_id as string,
    version: row.version as string,
    format: row.format as ApplicationPackageFormat,
    path: row.path as string,
    state: 'active',
    lastActivationTime: row.last_activation_time as string,
  };
}

export class SqliteApplications implements ApplicationRepository {
  private readonly getStmt;
  private readonly packagesStmt;
  private readonly saveStmt;
  private readonly insertPackageStmt;
  private readonly deletePackageStmt;
  private readonly deleteStmt;
  private readonly pages;

  constructor(db: Database.Database) {
    this.getStmt = db.prepare(`SELECT ${APPLICATION_COLUMNS} FROM applications WHERE account = ? AND key = ?`);
    this.packagesStmt = db.prepare(`SELECT ${PACKAGE_COLUMNS} FROM application_packages WHERE account = ? AND app_key = ? ORDER BY version_key`);
    // An upsert, never INSERT OR REPLACE: a replace deletes the row first, and its packages with it.
    this.saveStmt = db.prepare(
      `INSERT INTO applications (${APPLICATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account, key) DO UPDATE SET id = excluded.id, display_name = excluded.display_name,
         default_version = excluded.default_version, etag = excluded.etag, last_modified = excluded.last_modified`,
    );
    this.insertPackageStmt = db.prepare(
      `INSERT OR IGNORE INTO application_packages (account, app_key, version_key, ${PACKAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deletePackageStmt = db.prepare('DELETE FROM application_packages WHERE account = ? AND app_key = ? AND version_key = ?');
    this.deleteStmt = db.prepare('DELETE FROM applications WHERE account = ? AND key = ?');
    this.pages = new PageQueries(db, `SELECT ${APPLICATION_COLUMNS} FROM applications WHERE account = ? AND key > ?`, 'ORDER BY key');
  }

  private toRecord = (row: Row): ApplicationRecord => ({
    account: row.account as string,
    application: toApplication(row),
    packages: (this.packagesStmt.all(row.account, row.key) as Row[]).map(toPackage),
  });

  get(account: string, applicationId: string) {
    const row = this.getStmt.get(account, idKey(applicationId)) as Row | undefined;
    return row && this.toRecord(row);
  }
  list(account: string, page: PageQuery) {
    const after = decodeContinuation(page.continuation) ?? '';
    const rows = this.pages.rows([account, String(after)], page);
    return pageOf(rows, page.maxResults, this.toRecord, (row) => row.key as string);
  }
  saveApplication(account: string, application: Application) {
    this.saveStmt.run(
      account,
      idKey(application.id),
      application.id,
      application.displayName ?? null,
      application.defaultVersion ?? null,
      application.eTag,
      application.lastModified,
    );
  }
  insertPackage(account: string, entry: ApplicationPackage) {
    const result = this.insertPackageStmt.run(
      account,
      idKey(entry.applicationId),
      versionKey(entry.version),
      entry.applicationId,
      entry.version,
      entry.format,
      entry.path,
      entry.state,
      entry.lastActivationTime,
    );
    return result.changes === 1;
  }
  deletePackage(account: string, applicationId: string, version: string) {
    this.deletePackageStmt.run(account, idKey(applicationId), versionKey(version));
  }
  deleteApplication(account: string, applicationId: string) {
    this.deleteStmt.run(account, idKey(applicationId));
  }
}
