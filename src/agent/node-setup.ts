// Preparing a node for a run beyond its resource files: application
// packages are copied into the node's applications/ directory once (a
// directory appears complete or not at all), and certificates are written
// into the task's certs/ directory, readable by the task's user only.

import fs from 'node:fs/promises';
import path from 'node:path';
import type { NodeApplicationPackage, NodeCertificateFile } from '../core/ports.js';
import type { Owner } from './resource-files.js';

export async function installApplicationPackages(nodeRoot: string, packages: readonly NodeApplicationPackage[] | undefined): Promise<Record<string, string>> {
  const environment: Record<string, string> = {};
  for (const entry of packages ?? []) {
    const target = path.join(nodeRoot, entry.directory);
    if (!(await exists(target))) {
      const staging = `${target}.installing-${process.pid}-${Date.now()}`;
      await fs.cp(entry.sourcePath, staging, { recursive: true, preserveTimestamps: true });
      await fs.chmod(staging, 0o755);
      await fs.rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
        // Another run installed it meanwhile.
        await fs.rm(staging, { recursive: true, force: true });
        if (!(await exists(target))) throw error;
      });
    }
    for (const variable of entry.variables) environment[variable] = target;
  }
  return environment;
}

export async function writeCertificates(directory: string, files: readonly NodeCertificateFile[] | undefined, owner: Owner | undefined): Promise<void> {
  if (!files || files.length === 0) return;
  await fs.mkdir(directory, { recursive: true, mode: 0o700 });
  if (owner) await fs.chown(directory, owner.uid, owner.gid);
  for (const file of files) {
    const target = path.join(directory, path.basename(file.name));
    await fs.writeFile(target, Buffer.from(file.content, file.encoding === 'base64' ? 'base64' : 'utf8'), { mode: file.mode });
    await fs.chmod(target, file.mode);
    if (owner) await fs.chown(target, owner.uid, owner.gid);
  }
}

async function exists(target: string): Promise<boolean> {
  try {
    await fs.access(target);
    return true;
  } catch {
    return false;
  }
}
