// The program a local node's agent process runs. Run from TypeScript sources
// (the repository, tests), Lapis bundles the agent once per process with
// esbuild (about 0.1 s) into node_modules/.cache, named by the bundle's hash:
// a node then starts in about a tenth of a second of plain Node, where
// loading the sources through tsx would cost each node more than a second
// of CPU. Run as compiled JavaScript, the agent's compiled entry is used as it is.

import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const AGENT_SOURCES = fileURLToPath(new URL('../../agent/', import.meta.url));
/** Files the agent starts by their path next to its own module (the launcher), copied beside the bundle: name, and where it is under the sources when not beside them. */
const COMPANIONS: Array<{ name: string; from?: string; optional?: boolean }> = [
  { name: 'launcher-process.mjs' },
  { name: 'no-follow-open.mjs' },
  // Built by `npm install` where it can be (scripts/build-native.mjs); without it the launcher uses Node's spawn.
  { name: 'lapis_spawn.node', from: 'native/build/Release/lapis_spawn.node', optional: true },
];

let program: Promise<string> | undefined;

export function agentProgram(): Promise<string> {
  program ??= locateOrBuild();
  return program;
}

async function locateOrBuild(): Promise<string> {
  const compiled = path.join(AGENT_SOURCES, 'agent-main.js');
  if (await exists(compiled)) return compiled;
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [path.join(AGENT_SOURCES, 'agent-main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const bundle = result.outputFiles[0]!.contents;
  const hash = createHash('sha256').update(bundle);
  const companions = (
    await Promise.all(
      COMPANIONS.map(async ({ name, from, optional }) => {
        const file = path.join(AGENT_SOURCES, from ?? name);
        if (optional && !(await exists(file))) return undefined;
        return { name, content: await fs.readFile(file) };
      }),
    )
  ).filter((companion) => companion !== undefined);
  for (const companion of companions) hash.update(companion.content);
  // Under node_modules: the bundle's imports of packages resolve from there.
  const cache = path.join(path.dirname(path.dirname(createRequire(import.meta.url).resolve('esbuild'))), '..', '.cache', 'lapis-agent');
  const directory = path.join(cache, hash.digest('hex').slice(0, 16));
  const entry = path.join(directory, 'agent-main.mjs');
  // Readable by all: a container node's agent runs as its node's root, which is another user on the host.
  if (await exists(entry)) {
    await fs.chmod(directory, 0o755);
    return entry;
  }
  await fs.mkdir(cache, { recursive: true });
  // Written aside and renamed into place: another process building the same bundle never sees half of it.
  const staging = await fs.mkdtemp(path.join(cache, 'staging-'));
  await fs.chmod(staging, 0o755);
  for (const companion of companions) await fs.writeFile(path.join(staging, companion.name), companion.content);
  await fs.writeFile(path.join(staging, 'agent-main.mjs'), bundle);
  try {
    await fs.rename(staging, directory);
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    if (!(await exists(entry))) throw error;
  }
  return entry;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
