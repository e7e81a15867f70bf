// The injected faults a restarted server takes up again (migration 0020).

import type Database from 'better-sqlite3';
import type { InjectedFault } from '../../core/faults.js';
import type { FaultRepository } from '../../core/ports.js';

export class SqliteFaults implements FaultRepository {
  private readonly allStmt;
  private readonly putStmt;
  private readonly deleteStmt;

  constructor(db: Database.Database) {
    this.allStmt = db.prepare('SELECT account, document FROM injected_faults ORDER BY created_ms, id');
    this.putStmt = db.prepare('INSERT OR REPLACE INTO injected_faults (account, id, created_ms, document) VALUES (?, ?, ?, ?)');
    this.deleteStmt = db.prepare('DELETE FROM injected_faults WHERE account = ? AND id = ?');
  }

  listAll(): { account: string; fault: InjectedFault }[] {
    return (this.allStmt.all() as { account: string; document: string }[]).map((row) => ({ account: row.account, fault: JSON.parse(row.document) as InjectedFault }));
  }

  put(account: string, fault: InjectedFault): void {
    this.putStmt.run(account.toLowerCase(), fault.id, Date.parse(fault.created), JSON.stringify(fault));
  }

  delete(account: string, id: string): void {
    this.deleteStmt.run(account.toLowerCase(), id);
  }
}
