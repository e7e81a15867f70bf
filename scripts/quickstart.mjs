#!/usr/bin/env node
// `npm run quickstart`: examples/quickstart run on Lapis's compiled
// JavaScript (dist/, as the installed package runs), not on its sources
// through tsx, which cost the run some 2 s of CPU (bench/README.md,
// "Start-up"). `npm run build` (which `npm install` runs) bundles the
// example with the Lapis it starts and their packages into one file
// (program-bundle.mjs); it runs again first when a source, the example, a
// build script or the installed packages are newer than that bundle (an edit
// since must not run stale code): the node agents run dist/, and the bundled
// modules find their files there.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { quickstartBundleFile } from './program-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const INPUTS = ['src', path.join('examples', 'quickstart'), 'scripts', path.join('node_modules', '.package-lock.json')].map((input) => path.join(root, input));

function newest(file) {
  if (!fs.existsSync(file)) return 0;
  const stats = fs.statSync(file);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return fs.readdirSync(file).reduce((latest, name) => Math.max(latest, newest(path.join(file, name))), stats.mtimeMs);
}

const entry = quickstartBundleFile(root);
const builtAt = fs.existsSync(entry) ? fs.statSync(entry).mtimeMs : 0;
if (Math.max(...INPUTS.map(newest)) > builtAt) execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
await import(pathToFileURL(entry).href);
