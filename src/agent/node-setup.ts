// Preparing a node for a run beyond its resource files: application
// packages are fetched from the server over the agent protocol into the
// node's applications/ directory once (a directory appears complete or not
// at all), and certificates are written
// into the task's certs/ directory, readable by the task's user only.
//
// The agent does this as root in directories a task can write (certs/ is the
// task user's): every directory is opened from the node root without
// following links, and each certificate file is written under a fresh name
// and renamed over its target, so a link a task left there is replaced,
// never written through (no-follow.ts).

import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { PackageManifest } from '../api/node/protocol.js';
import type { NodeApplicationPackage, NodeCertificateFile } from '../core/ports.js';
import { componentsUnder, lstatAt, openChildDirectory, withDirectory, writeFileReplacing, type DirectoryHandle } from './no-follow.js';
import type { Owner } from './resource-files.js';

/** Fetches a package's files from the server (packages.read): its manifest, then each file's bytes in the manifest's order. */
export type FetchPackage = (directory: string) => Promise<{ manifest: PackageManifest; content: AsyncIterable<Uint8Array> }>;

export async function installApplicationPackages(nodeRoot: string, packages: readonly NodeApplicationPackage[] | undefined, fetchPackage: FetchPackage): Promise<void> {
  for (const entry of packages ?? []) {
    const target = path.join(nodeRoot, entry.directory);
    const components = componentsUnder(nodeRoot, target);
    const name = components.pop();
    if (name === undefined) throw new Error(`The package directory '${entry.directory}' is the node root.`);
    await withDirectory(nodeRoot, components, (parent) => installOne(parent, name, () => fetchPackage(entry.directory)), {});
  }
}

async function installOne(parent: DirectoryHandle, name: string, fetch: () => ReturnType<FetchPackage>): Promise<void> {
  if (await existsAt(parent, name)) return;
  const staging = `${name}.installing-${process.pid}-${Date.now()}`;
  // Root's alone while it fills: nothing a task does can reach into it.
  await fs.mkdir(parent.at(staging), { mode: 0o700 });
  try {
    const { manifest, content } = await fetch();
    await unpack(parent.at(staging), manifest, content);
    const staged = await openChildDirectory(parent, staging);
    try {
      await staged.handle.chmod(0o755);
    } finally {
      await staged.close();
    }
    await fs.rename(parent.at(staging), parent.at(name));
  } catch (error) {
    await fs.rm(parent.at(staging), { recursive: true, force: true });
    // Another run installed it meanwhile.
    if (!(await existsAt(parent, name))) throw error;
  }
}

/** Writes the manifest's entries under `root` (a fresh directory of root's), each file's bytes taken in turn from `content`. */
async function unpack(root: string, manifest: PackageManifest, content: AsyncIterable<Uint8Array>): Promise<void> {
  const bytes = new ByteQueue(content[Symbol.asyncIterator]());
  const links = new Set<string>();
  try {
    for (const entry of manifest.entries) {
      const relative = checkedEntryPath(entry.path, links);
      const target = path.join(root, relative);
      if (entry.kind === 'directory') await fs.mkdir(target, { mode: entry.mode & 0o777 });
      else if (entry.kind === 'symlink') {
        await fs.symlink(entry.target, target);
        links.add(relative);
      } else await writeEntry(target, entry.mode & 0o777, bytes.take(entry.size));
    }
  } finally {
    // The sender's side of the stream ends here too (its last file's handle closes).
    await bytes.close();
  }
}

async function writeEntry(target: string, mode: number, content: AsyncIterable<Uint8Array>): Promise<void> {
  const handle = await fs.open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    for await (const chunk of content) await handle.write(chunk);
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}

/** A manifest path as written: relative, without '..', and never below a link the package itself made. */
function checkedEntryPath(entryPath: string, links: ReadonlySet<string>): string {
  const normalized = path.posix.normalize(entryPath);
  if (path.posix.isAbsolute(normalized) || normalized === '.' || normalized.split('/').includes('..')) {
    throw new Error(`The package entry '${entryPath}' is not a path inside the package.`);
  }
  const parts = normalized.split('/');
  for (let depth = 1; depth < parts.length; depth++) {
    if (links.has(parts.slice(0, depth).join('/'))) throw new Error(`The package entry '${entryPath}' lies below a link.`);
  }
  return normalized;
}

/** Hands out a byte stream's bytes in runs of exact lengths. */
class ByteQueue {
  private pending: Uint8Array | undefined;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  async *take(length: number): AsyncIterable<Uint8Array> {
    let left = length;
    while (left > 0) {
      let chunk = this.pending;
      this.pending = undefined;
      if (!chunk) {
        const next = await this.source.next();
        if (next.done) throw new Error('The package content ended early.');
        chunk = next.value;
      }
      if (chunk.length > left) {
        this.pending = chunk.subarray(left);
        chunk = chunk.subarray(0, left);
      }
      left -= chunk.length;
      yield chunk;
    }
  }

  async close(): Promise<void> {
    await this.source.return?.();
  }
}

/**
 * Writes the certificate files into `directory` (the task's certs/), made if
 * missing (0700) and given to the owner. `root` is a trusted directory above
 * it (the node root; by default the directory's parent).
 */
export async function writeCertificates(
  directory: string,
  files: readonly NodeCertificateFile[] | undefined,
  owner: Owner | undefined,
  root: string = path.dirname(directory),
): Promise<void> {
  if (!files || files.length === 0) return;
  const components = componentsUnder(root, directory);
  const name = components.pop();
  if (name === undefined) throw new Error(`The certificates directory '${directory}' is its own root.`);
  await withDirectory(
    root,
    components,
    async (parent) => {
      const certs = await openChildDirectory(parent, name, { mode: 0o700 });
      try {
        if (owner) await certs.handle.chown(owner.uid, owner.gid);
        for (const file of files) {
          const content = Buffer.from(file.content, file.encoding === 'base64' ? 'base64' : 'utf8');
          await writeFileReplacing(certs, path.basename(file.name), content, { mode: file.mode, owner });
        }
      } finally {
        await certs.close();
      }
    },
    {},
  );
}

async function existsAt(directory: DirectoryHandle, name: string): Promise<boolean> {
  try {
    await lstatAt(directory, name);
    return true;
  } catch {
    return false;
  }
}
