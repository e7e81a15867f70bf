// Packs the repository as `npm pack` does and installs the tarball as a user
// would (`npm install -g ./lapis-*.tgz`), into a prefix of the test's own.
//
// Faithful, with two shortcuts that change where bytes come from, not what
// npm does with them:
// - Packages come from npm's cache when it has them (--prefer-offline); the
//   repository's own `npm install` filled it.
// - better-sqlite3's install script (prebuild-install) gets its prebuilt
//   binary from a local directory, made from the repository's build, instead
//   of GitHub (often unreachable) or half a minute of compiling.
//
// The prefix goes to /dev/shm when it has room: the installed tree is some
// 27,000 files (250 MiB), written there in about a third of the time a disk
// takes.

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

/** npm and lapis as a user's shell runs them: without the test runner's tsx or the npm variables of `npm test`. */
export function userEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_OPTIONS' && !key.toLowerCase().startsWith('npm_')));
  return { ...env, ...extra };
}

export interface Packed {
  tarball: string;
  /** The paths the tarball holds, relative to the package root. */
  files: string[];
}

/** `npm pack` in the repository, which builds dist/ first (prepack). */
export async function pack(destination: string): Promise<Packed> {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', destination], { cwd: REPOSITORY, env: userEnvironment(), maxBuffer: 16 << 20 });
  const [result] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: path.join(destination, result!.filename), files: result!.files.map((file) => file.path) };
}

export interface Installed {
  prefix: string;
  /** `<prefix>/bin/lapis`, the command npm linked. */
  lapis: string;
  /** Where the package itself went. */
  packageDirectory: string;
  /** npm's stderr: its warnings. */
  warnings: string;
}

/** A new directory for an npm prefix, under /dev/shm when it has room (the caller removes it). */
export function makePrefix(scratch: string): string {
  return fs.mkdtempSync(path.join(roomyMemory() ?? scratch, 'lapis-prefix-'));
}

/** `npm install -g --allow-scripts=better-sqlite3 <tarball>` into `prefix`, run from `cwd`. */
export async function installGlobally(tarball: string, prefix: string, scratch: string, cwd: string): Promise<Installed> {
  const prebuilds = path.join(scratch, 'prebuilds');
  makeSqlitePrebuild(prebuilds);
  const { stderr } = await run(
    'npm',
    ['install', '--global', '--prefix', prefix, '--allow-scripts=better-sqlite3', '--prefer-offline', '--no-audit', '--no-fund', tarball],
    { cwd, env: userEnvironment({ npm_config_better_sqlite3_local_prebuilds: prebuilds }), maxBuffer: 16 << 20 },
  );
  return { prefix, lapis: path.join(prefix, 'bin', 'lapis'), packageDirectory: path.join(prefix, 'lib', 'node_modules', 'lapis'), warnings: stderr };
}

/** A prebuild-install archive, named as it looks for one, of the binary the repository's install built. */
function makeSqlitePrebuild(directory: string): void {
  const module = path.join(REPOSITORY, 'node_modules', 'better-sqlite3');
  const { version } = JSON.parse(fs.readFileSync(path.join(module, 'package.json'), 'utf8')) as { version: string };
  fs.mkdirSync(directory, { recursive: true });
  const archive = path.join(directory, `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`);
  fs.rmSync(archive, { force: true });
  execFileSync('tar', ['-czf', archive, '-C', module, 'build/Release/better_sqlite3.node']);
}

/** /dev/shm when it exists with a gibibyte free (Docker's default is 64 MiB). */
function roomyMemory(): string | undefined {
  try {
    const stats = fs.statfsSync('/dev/shm');
    return stats.bavail * stats.bsize >= 1 << 30 ? '/dev/shm' : undefined;
  } catch {
    return undefined;
  }
}
