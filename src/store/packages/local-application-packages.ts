// The package file store: each application package version unpacked under
// `<dataDir>/applications/<id>/<version>/` (lower-cased, as ids and versions
// are unique without regard to case). A package arrives as a zip file,
// unpacked here, or as a directory, copied. It is assembled in a staging
// directory beside its final place and renamed into it, so a failed or
// interrupted import never leaves a half-filled package where nodes look.

import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ApplicationPackageFormat } from '../../core/application.js';
import type { ApplicationPackageFiles } from '../../core/ports.js';
import { extractZip, looksLikeZip, ZipError } from './unzip.js';

export class LocalApplicationPackageFiles implements ApplicationPackageFiles {
  /** @param root the applications directory, `<dataDir>/applications` */
  constructor(private readonly root: string) {}

  packageDirectory(applicationId: string, version: string): string {
    return path.join(this.root, applicationId.toLowerCase(), version.toLowerCase());
  }

  async importPackage(source: string, applicationId: string, version: string): Promise<{ format: ApplicationPackageFormat; path: string }> {
    const stat = await fs.stat(source).catch(() => undefined);
    if (!stat) throw new Error(`The package source ${source} does not exist.`);
    const target = this.packageDirectory(applicationId, version);
    if (await fs.stat(target).catch(() => undefined)) throw new Error(`The package directory ${target} already exists.`);
    const parent = path.dirname(target);
    await fs.mkdir(parent, { recursive: true, mode: 0o755 });
    const staging = path.join(parent, `.incoming-${randomUUID()}`);
    await fs.mkdir(staging, { mode: 0o755 });
    try {
      let format: ApplicationPackageFormat;
      if (stat.isDirectory()) {
        format = 'directory';
        // Links are copied as links, not followed: the operator's own tree, reproduced as it is.
        await fs.cp(source, staging, { recursive: true, errorOnExist: true, force: false, verbatimSymlinks: true });
      } else {
        const zip = await fs.readFile(source);
        if (!looksLikeZip(zip.subarray(0, 4))) throw new ZipError(`The package ${source} is neither a zip file nor a directory.`);
        format = 'zip';
        await extractZip(zip, staging);
      }
      await fs.rename(staging, target);
      return { format, path: target };
    } catch (error) {
      await fs.rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  async removePackage(packagePath: string): Promise<void> {
    const resolved = path.resolve(packagePath);
    // Only ever below the applications directory.
    if (!resolved.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`Refusing to remove ${packagePath}: it is not a package directory.`);
    await fs.rm(resolved, { recursive: true, force: true });
  }
}
