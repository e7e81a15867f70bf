// Application packages as node agents fetch them (packages.read on the agent
// protocol): a node reads only the packages of runs sent to it, named by the
// directory the run gives each one, never by a path of the server's; the
// server's paths stay on the server. Packages are immutable once imported
// (store/packages), so the manifest sent first still describes the files
// read after it; a file that changed anyway ends the answer with an error.

import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { StreamedAnswer } from '../../api/node/peer.js';
import type { PackageEntry, PackageManifest } from '../../api/node/protocol.js';
import type { NodeApplicationPackage } from '../../core/ports.js';

/** As files.read sends a file. */
const CHUNK_BYTES = 64 * 1024;

export class NodePackageGrants {
  /** Per node, the package directories its runs name and where the server keeps each. */
  private readonly granted = new Map<string, Map<string, string>>();

  /** The packages of a run about to be sent to the node, as the node may see them (without their server paths). */
  grant(nodeId: string, packages: readonly NodeApplicationPackage[] | undefined): NodeApplicationPackage[] | undefined {
    if (!packages || packages.length === 0) return packages?.slice();
    const granted = this.granted.get(nodeId) ?? new Map<string, string>();
    this.granted.set(nodeId, granted);
    return packages.map(({ sourcePath, ...seen }) => {
      if (sourcePath !== undefined) granted.set(seen.directory, sourcePath);
      return seen;
    });
  }

  revoke(nodeId: string): void {
    this.granted.delete(nodeId);
  }

  async read(nodeId: string, directory: string): Promise<StreamedAnswer> {
    const sourcePath = this.granted.get(nodeId)?.get(directory);
    if (sourcePath === undefined) throw new Error(`No run of this node names the application package '${directory}'.`);
    const entries = await manifestOf(sourcePath);
    const manifest: PackageManifest = { entries };
    return new StreamedAnswer(manifest, contentOf(sourcePath, entries));
  }
}

async function manifestOf(root: string, relative = ''): Promise<PackageEntry[]> {
  const names = (await fs.readdir(path.join(root, relative))).sort();
  const entries: PackageEntry[] = [];
  for (const name of names) {
    const entryPath = relative ? `${relative}/${name}` : name;
    const stats = await fs.lstat(path.join(root, entryPath));
    if (stats.isSymbolicLink()) entries.push({ path: entryPath, kind: 'symlink', target: await fs.readlink(path.join(root, entryPath)) });
    else if (stats.isDirectory()) entries.push({ path: entryPath, kind: 'directory', mode: stats.mode & 0o777 }, ...(await manifestOf(root, entryPath)));
    else if (stats.isFile()) entries.push({ path: entryPath, kind: 'file', mode: stats.mode & 0o777, size: stats.size });
  }
  return entries;
}

async function* contentOf(root: string, entries: readonly PackageEntry[]): AsyncIterable<Uint8Array> {
  for (const entry of entries) {
    if (entry.kind !== 'file') continue;
    const handle = await fs.open(path.join(root, entry.path), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      let left = entry.size;
      while (left > 0) {
        const { bytesRead, buffer } = await handle.read(Buffer.alloc(Math.min(CHUNK_BYTES, left)), 0, Math.min(CHUNK_BYTES, left), null);
        if (bytesRead === 0) throw new Error(`The package file '${entry.path}' changed while it was sent.`);
        left -= bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }
}
