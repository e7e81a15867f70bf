// Preparing a node for a run beyond its resource files: application
// packages are copied into the node's applications/ directory once (a
// directory appears complete or not at all), and certificates are written
// into the task's certs/ directory, readable by the task's user only.
//
// The agent does this as root in directories a task can write (certs/ is the
// task user's): every directory is opened from the node root without
// following links, and each certificate file is written under a fresh name
// and renamed over its target, so a link a task left there is replaced,
// never written through (no-follow.ts).

import fs from 'node:fs/promises';
import path from 'node:path';
import type { NodeApplicationPackage, NodeCertificateFile } from '../core/ports.js';
import { componentsUnder, lstatAt, openChildDirectory, withDirectory, writeFileReplacing, type DirectoryHandle } from './no-follow.js';
import type { Owner } from './resource-files.js';

export async function installApplicationPackages(nodeRoot: string, packages: readonly NodeApplicationPackage[] | undefined): Promise<void> {
  for (const entry of packages ?? []) {
    const target = path.join(nodeRoot, entry.directory);
    const components = componentsUnder(nodeRoot, target);
    const name = components.pop();
    if (name === undefined) throw new Error(`The package directory '${entry.directory}' is the node root.`);
    await withDirectory(nodeRoot, components, (parent) => installOne(parent, name, entry.sourcePath), {});
  }
}

async function installOne(parent: DirectoryHandle, name: string, sourcePath: string): Promise<void> {
  if (await existsAt(parent, name)) return;
  const staging = `${name}.installing-${process.pid}-${Date.now()}`;
  await fs.cp(sourcePath, parent.at(staging), { recursive: true, preserveTimestamps: true });
  const staged = await openChildDirectory(parent, staging);
  try {
    await staged.handle.chmod(0o755);
  } finally {
    await staged.close();
  }
  await fs.rename(parent.at(staging), parent.at(name)).catch(async (error: NodeJS.ErrnoException) => {
    // Another run installed it meanwhile.
    await fs.rm(parent.at(staging), { recursive: true, force: true });
    if (!(await existsAt(parent, name))) throw error;
  });
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
