#!/usr/bin/env node
// Builds the launcher's native spawner (src/agent/native/spawn.c, see its
// header) with node-gyp, as `npm install` builds better-sqlite3: npm's own
// node-gyp, against the Node headers npm is configured with. Run by
// `prepare`, before `npm run build` copies the product into dist/agent/.
//
// Optional by design: where it cannot be built (not Linux on x86-64, no C
// compiler) this says so and succeeds, and the launcher starts processes
// through Node's child_process, as it did before it had one.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const directory = fileURLToPath(new URL('../src/agent/native/', import.meta.url));

function nodeGyp() {
  if (process.env.npm_config_node_gyp && fs.existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  // npm's bundled copy, beside npm-cli.js.
  const npm = process.env.npm_execpath;
  const bundled = npm ? path.join(path.dirname(npm), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js') : undefined;
  return bundled && fs.existsSync(bundled) ? bundled : undefined;
}

function skip(reason) {
  console.warn(`lapis: the native task spawner is not built (${reason}); tasks start through Node's child_process.`);
  process.exit(0);
}

if (process.platform !== 'linux' || process.arch !== 'x64') skip(`it is for Linux on x86-64, this is ${process.platform} on ${process.arch}`);
const gyp = nodeGyp();
if (!gyp) skip('npm\'s node-gyp was not found: run this through npm');
const result = spawnSync(process.execPath, [gyp, 'rebuild', '--silent'], { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (result.status !== 0) skip(`node-gyp failed: ${(result.stderr ?? '').trim().split('\n').slice(-3).join(' / ') || `exit ${result.status}`}`);
