// A scratch directory for a standalone bench script (side-by-side.ts,
// cores.ts), with numbered directories made under it on demand.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Scratch {
  root: string;
  /** A new empty directory under the root (what lapisRun's and directSpawn's context needs). */
  directory(label: string): string;
  remove(): void;
}

export function makeScratch(prefix: string): Scratch {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  // Tasks run as other users: every directory on the way to a server's data must let them through.
  fs.chmodSync(root, 0o755);
  let counter = 0;
  return {
    root,
    directory(label: string): string {
      const directory = path.join(root, `${++counter}-${label}`);
      fs.mkdirSync(directory, { recursive: true });
      return directory;
    },
    remove: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}
