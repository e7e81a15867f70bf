// The node's OS accounts, as the agent gets them: made by the server on the
// host that runs the node (server/os-users.ts), asked for over the agent
// protocol and remembered, so a task costs a round trip only the first time
// its account is used.

import type { AgentRequest } from '../api/node/protocol.js';
import type { NodePlacement, NodeUserAccount, NodeUserAccounts, OsAccount } from '../core/ports.js';
import { SettledOnce } from './settled-once.js';

export type AskServer = <T>(body: AgentRequest) => Promise<T>;

export class RemoteUserAccounts implements NodeUserAccounts {
  private readonly known = new SettledOnce<OsAccount>();
  private group: Promise<number> | undefined;

  constructor(private readonly ask: AskServer) {}

  ensure(_placement: NodePlacement, user: NodeUserAccount): Promise<OsAccount> {
    // Remembered by the whole definition: a pool user defined otherwise is asked for again.
    return this.known.get(`user:${JSON.stringify(user)}`, () => this.ask<OsAccount>({ op: 'accounts.ensure', user }));
  }

  autoUser(_placement: NodePlacement, slot: string): Promise<OsAccount> {
    return this.known.get(`auto:${slot}`, () => this.ask<OsAccount>({ op: 'accounts.autoUser', slot }));
  }

  poolGroup(): Promise<number> {
    this.group ??= this.ask<number>({ op: 'accounts.poolGroup' });
    return this.group;
  }

  /** The server releases a node's accounts when it releases the node. */
  async releaseNode(): Promise<void> {}
}
