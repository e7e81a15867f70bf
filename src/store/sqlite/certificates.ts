// Certificates in SQLite: the wire document per certificate and its internal
// part (internal_json), keyed by `<algorithm>-<thumbprint>` lower-cased, with
// its state indexed for the deletion sweep. The data and password sit in their own columns, read only
// by getSecrets: lists and gets never select them.

import type Database from 'better-sqlite3';
import { certificateKey, type CertificateSecrets, type CertificateState } from '../../core/certificate.js';
import type { CertificateRecord, CertificateRepository, PageQuery } from '../../core/ports.js';
import { decodeContinuation, PageQueries, pageOf, type Row } from './paging.js';
import { cachedStatement } from './statement-cache.js';

const CERTIFICATE_FILTER_COLUMNS: Readonly<Record<string, string>> = { state: 'state' };

export class SqliteCertificates implements CertificateRepository {
  private readonly getStmt;
  private readonly secretsStmt;
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly deleteStmt;
  private readonly pages;

  constructor(private readonly db: Database.Database) {
    this.getStmt = db.prepare('SELECT account, doc, internal_json FROM certificates WHERE account = ? AND key = ?');
    this.secretsStmt = db.prepare('SELECT data, password FROM certificates WHERE account = ? AND key = ?');
    this.insertStmt = db.prepare(
      'INSERT OR IGNORE INTO certificates (account, key, state, doc, internal_json, data, password) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.updateStmt = db.prepare('UPDATE certificates SET state = ?, doc = ?, internal_json = ? WHERE account = ? AND key = ?');
    this.deleteStmt = db.prepare('DELETE FROM certificates WHERE account = ? AND key = ?');
    this.pages = new PageQueries(db, 'SELECT account, key, doc, internal_json FROM certificates WHERE account = ? AND key > ?', 'ORDER BY key', CERTIFICATE_FILTER_COLUMNS);
  }

  private toRecord = (row: Row): CertificateRecord => ({
    account: row.account as string,
    certificate: JSON.parse(row.doc as string),
    internal: JSON.parse(row.internal_json as string),
  });

  get(account: string, thumbprintAlgorithm: string, thumbprint: string) {
    const row = this.getStmt.get(account, certificateKey(thumbprintAlgorithm, thumbprint)) as Row | undefined;
    return row && this.toRecord(row);
  }
  getSecrets(account: string, thumbprintAlgorithm: string, thumbprint: string): CertificateSecrets | undefined {
    const row = this.secretsStmt.get(account, certificateKey(thumbprintAlgorithm, thumbprint)) as Row | undefined;
    if (!row) return undefined;
    const secrets: CertificateSecrets = { data: row.data as string };
    if (row.password !== null) secrets.password = row.password as string;
    return secrets;
  }
  insert(record: CertificateRecord, secrets: CertificateSecrets) {
    const { certificate } = record;
    const key = certificateKey(certificate.thumbprintAlgorithm, certificate.thumbprint);
    const { account, internal } = record;
    return this.insertStmt.run(account, key, certificate.state, JSON.stringify(certificate), JSON.stringify(internal), secrets.data, secrets.password ?? null).changes === 1;
  }
  update(record: CertificateRecord) {
    const { certificate } = record;
    const key = certificateKey(certificate.thumbprintAlgorithm, certificate.thumbprint);
    this.updateStmt.run(certificate.state, JSON.stringify(certificate), JSON.stringify(record.internal), record.account, key);
  }
  delete(account: string, thumbprintAlgorithm: string, thumbprint: string) {
    this.deleteStmt.run(account, certificateKey(thumbprintAlgorithm, thumbprint));
  }
  list(account: string, page: PageQuery) {
    const after = decodeContinuation(page.continuation) ?? '';
    const rows = this.pages.rows([account, String(after)], page);
    return pageOf(rows, page.maxResults, this.toRecord, (row) => row.key as string);
  }
  listByState(states: CertificateState[]) {
    const marks = states.map(() => '?').join(',');
    return (cachedStatement(this.db, `SELECT account, doc, internal_json FROM certificates WHERE state IN (${marks})`).all(...states) as Row[]).map(this.toRecord);
  }
}
