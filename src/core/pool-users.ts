// A pool's named users (userAccounts) as tasks use them: a task, job
// preparation or release task, or start task whose userIdentity names one
// runs as that user, with that user's elevation; a name the pool does not
// define fails the run before it starts.

import type { AutoUserScope, ElevationLevel, TaskFailureInfo, UserIdentity } from './common.js';
import type { Pool } from './pool.js';
import type { NodeUserAccount } from './ports.js';

interface UserAccountSpec {
  name: string;
  password?: string;
  elevationLevel?: string;
  linuxUserConfiguration?: { uid?: number; gid?: number; sshPrivateKey?: string };
}

/** The pool's user account of that name (Batch matches names without regard to case). */
export function poolUserAccount(pool: Pool | undefined, userName: string): NodeUserAccount | undefined {
  const accounts = Array.isArray(pool?.userAccounts) ? (pool?.userAccounts as UserAccountSpec[]) : [];
  const spec = accounts.find((account) => account.name.toLowerCase() === userName.toLowerCase());
  if (!spec) return undefined;
  const linux = spec.linuxUserConfiguration;
  return {
    name: spec.name,
    password: spec.password,
    elevationLevel: spec.elevationLevel === 'admin' ? 'admin' : 'nonadmin',
    ...(linux?.uid !== undefined && linux.gid !== undefined ? { uid: linux.uid, gid: linux.gid } : {}),
    ...(linux?.sshPrivateKey ? { sshPrivateKey: linux.sshPrivateKey } : {}),
  };
}

export interface RunIdentity {
  elevationLevel: ElevationLevel;
  /** For an auto user: whether it is the node's one pool user or a user of this task alone. */
  autoUserScope?: AutoUserScope;
  user?: NodeUserAccount;
  /** The named user is not one of the pool's. */
  failure?: TaskFailureInfo;
}

/**
 * Whom a run with this userIdentity runs as on a node of the pool. An auto
 * user without a scope is the pool's, and so is a run with no userIdentity
 * at all: Batch answers such a task with `autoUser: { scope: 'pool' }`.
 */
export function runIdentity(identity: UserIdentity | undefined, pool: Pool | undefined): RunIdentity {
  const userName = identity?.username;
  if (!userName) {
    const autoUser = identity?.autoUser;
    return { elevationLevel: autoUser?.elevationLevel ?? 'nonadmin', autoUserScope: autoUser?.scope ?? 'pool' };
  }
  const user = poolUserAccount(pool, userName);
  if (!user) {
    return {
      elevationLevel: 'nonadmin',
      failure: { category: 'usererror', code: 'UserNotFound', message: `The user ${userName} is not one of the pool's userAccounts.` },
    };
  }
  return { elevationLevel: user.elevationLevel, user };
}
