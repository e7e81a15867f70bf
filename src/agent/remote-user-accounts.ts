// The node's OS accounts, as the agent gets them: made by the server on the
// host that runs the node (server/os-users.ts), asked for over the agent
// protocol and remembered, so a task costs a round trip only the first time
// its account is used.

import type { AgentRequest } from '../api/node/protocol.js';
import type { NodePlacement, NodeUserAccount, NodeUserAccounts, OsAccount } from '../core/ports.js';

export type AskServer = <T>(body: AgentRequest) => Promise<T>;

export class RemoteUserAccounts implements NodeUserAccounts {
  private readonly known = new Map<string, Promise<OsAccount>>();
  private group: Promise<number> | undefined;

  constructor(private readonly ask: AskServer) {}

  ensure(_placement: NodePlacement, user: NodeUserAccount): Promise<OsAccount> {
    // Not remembered: a named user's account is checked against the pool's definition each time.
    return this.ask<OsAccount>({ op: 'accounts.ensure', user });
  }

  autoUser(_placement: NodePlacement, slot: string): Promise<OsAccount> {
    let account = this.known.get(slot);
    if (!account) {
      account = this.ask<OsAccount>({ op: 'accounts.autoUser', slot });
      this.known.set(slot, account);
      account.catch(() => this.known.delete(slot));
    }
    return account;
  }

  poolGroup(): Promise<number> {
    this.group ??= this.ask<number>({ op: 'accounts.poolGroup' });
    return this.group;
  }

  /** The server releases a node's accounts when it releases the node. */
  async releaseNode(): Promise<void> {}
}
