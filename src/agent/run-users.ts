// Whom each run on a node runs as, when the agent runs as root:
// - admin (an autoUser or a named user with elevationLevel admin): root;
// - a named user (userIdentity.userName): that pool user's account;
// - an auto user with pool scope: the node's one pool user;
// - an auto user with task scope (and a task or start task with no
//   userIdentity): a user of that task alone. The node keeps a few such
//   users and hands one to a task only once every process of the task that
//   had it before has ended, so a uid names one task at a time. A task gets
//   back the user it had before when it is free (a retry finds its working
//   directory its own); the start task has its own, kept while the node
//   lives, since its processes may.
// Not root: every run runs as the server's own user (undefined owner).

import type { NodePlacement, NodeUserAccounts, OsAccount, TaskRun, TaskRunRef } from '../core/ports.js';

export class RunUsers {
  /** Task-scope users by slot: the task that holds each (undefined: free). */
  private readonly taskSlots = new Map<string, string | undefined>();
  /** The task each slot served last. */
  private readonly lastHolder = new Map<string, string>();
  /** This node's auto users that runs have used, by uid (for ending their processes). */
  private readonly used = new Map<number, OsAccount>();

  constructor(
    private readonly placement: NodePlacement,
    private readonly accounts: NodeUserAccounts,
  ) {}

  /** The account the run's process runs as; undefined: as the agent itself (root). */
  async acquire(run: TaskRun): Promise<OsAccount | undefined> {
    if (run.user) {
      const account = await this.accounts.ensure(this.placement, run.user);
      // An admin named user runs as root, as an admin autoUser does; its account (in the sudo group) still exists.
      return run.user.elevationLevel === 'admin' ? undefined : account;
    }
    if (run.elevationLevel === 'admin') return undefined;
    if (run.autoUserScope === 'pool') return this.remember(await this.accounts.autoUser(this.placement, 'pool'));
    if (run.kind === 'startTask') return this.remember(await this.accounts.autoUser(this.placement, 'start'));
    return this.remember(await this.accounts.autoUser(this.placement, this.takeSlot(taskKey(run))));
  }

  /**
   * The task's run is over and every process it started has ended: its
   * task-scope user may serve another task.
   */
  release(ref: TaskRunRef): void {
    const key = taskKey(ref);
    for (const [slot, holder] of this.taskSlots) {
      if (holder === key) this.taskSlots.set(slot, undefined);
    }
  }

  /** The task-scope user slot a task holds, if any (the one whose processes end with it). */
  slotOf(ref: TaskRunRef): string | undefined {
    const key = taskKey(ref);
    for (const [slot, holder] of this.taskSlots) if (holder === key) return slot;
    return undefined;
  }

  /** Every auto user of this node that its runs ran as (named users serve the pool's other nodes too). */
  accountsUsed(): OsAccount[] {
    return [...this.used.values()];
  }

  private remember(account: OsAccount): OsAccount {
    this.used.set(account.uid, account);
    return account;
  }

  private takeSlot(key: string): string {
    const held = [...this.taskSlots].find(([, holder]) => holder === key);
    if (held) return held[0];
    const free = [...this.taskSlots].filter(([, holder]) => holder === undefined).map(([slot]) => slot);
    const slot = free.find((candidate) => this.lastHolder.get(candidate) === key) ?? free[0] ?? `t${this.taskSlots.size + 1}`;
    this.taskSlots.set(slot, key);
    this.lastHolder.set(slot, key);
    return slot;
  }
}

function taskKey(ref: TaskRunRef): string {
  return `${ref.kind}\n${ref.jobId.toLowerCase()}\n${ref.taskId.toLowerCase()}`;
}
