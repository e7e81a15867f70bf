// LocalNodeProvider against the node provider conformance suite
// (test/providers/conformance.ts), built as startLapis builds it: as root with
// OS accounts for the runs and a control group per run; otherwise every run
// runs as this process's user.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findCgroupRoot } from '../../src/agent/cgroups.js';
import { isRoot } from '../../src/config/config.js';
import { LocalNodeProvider } from '../../src/providers/local/local-node-provider.js';
import { OsUserAccounts } from '../../src/server/os-users.js';
import { providerConformance } from '../providers/conformance.js';

providerConformance(
  'LocalNodeProvider',
  async (events, { heartbeatIntervalMs }) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-conformance-'));
    // As startLapis lays it out: runs (as other users) may pass through to their nodes.
    fs.chmodSync(dataDir, 0o711);
    const nodesDirectory = path.join(dataDir, 'nodes');
    fs.mkdirSync(nodesDirectory, { mode: 0o711 });
    fs.chmodSync(nodesDirectory, 0o711);
    const userAccounts = isRoot() ? new OsUserAccounts(nodesDirectory) : undefined;
    const cgroupRoot = findCgroupRoot(nodesDirectory);
    const provider = new LocalNodeProvider(events, { nodesDirectory, clock: () => new Date(), userAccounts, cgroupRoot, heartbeatIntervalMs });
    return {
      provider,
      async cleanup() {
        await userAccounts?.removeLeftovers();
        fs.rmSync(dataDir, { recursive: true, force: true });
        // Empty control groups go with rmdir; one still busy stays (and says so in the next run's leftovers).
        if (cgroupRoot) {
          for (const group of [path.join(cgroupRoot, 'launcher'), cgroupRoot]) {
            try {
              fs.rmdirSync(group);
            } catch {
              // Still in use.
            }
          }
        }
      },
    };
  },
  { separateUsersUnavailable: isRoot() ? undefined : 'not root: LocalNodeProvider runs every run as its own user' },
);
