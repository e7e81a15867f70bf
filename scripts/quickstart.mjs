#!/usr/bin/env node
// `npm run quickstart`: examples/quickstart run on Lapis's compiled
// JavaScript (dist/, as the installed package runs), not on its sources
// through tsx, which cost the run some 2 s of CPU (bench/README.md,
// "Start-up"). dist/ is built first when a source is newer than it (`npm
// install` builds it; an edit since then must not run stale code): the
// node agents run it, and the bundled modules find their files there. The
// example and the Lapis it starts are bundled by esbuild into one file with
// their packages (program-bundle.mjs; some 0.2 s) under node_modules/.cache,
// where the packages left outside resolve.

import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { OUTSIDE_PACKAGES, programBundle } from './program-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = path.join(root, 'src');
const dist = path.join(root, 'dist');

function newestUnder(directory) {
  return fs.readdirSync(directory, { withFileTypes: true }).reduce((newest, entry) => {
    const file = path.join(directory, entry.name);
    return Math.max(newest, entry.isDirectory() ? newestUnder(file) : fs.statSync(file).mtimeMs);
  }, 0);
}

const builtAt = fs.existsSync(path.join(dist, 'cli', 'main.js')) ? fs.statSync(path.join(dist, 'cli', 'main.js')).mtimeMs : 0;
if (newestUnder(source) > builtAt) execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });

const entry = path.join(root, 'node_modules', '.cache', 'lapis-quickstart', 'main.mjs');
await build({
  entryPoints: [path.join(root, 'examples', 'quickstart', 'main.ts')],
  outfile: entry,
  // The example uses the Azure SDK clients at once: they go in with the rest.
  ...programBundle({ source, output: dist, bundleDirectory: path.dirname(entry), external: OUTSIDE_PACKAGES.filter((name) => !name.startsWith('@azure/')) }),
});
await import(pathToFileURL(entry).href);
