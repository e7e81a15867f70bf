#!/usr/bin/env node
// The `lapis` command. Installed from the package, it runs the compiled
// JavaScript in dist/ (`npm run build`). In a checkout, where src/ is, it runs
// the TypeScript sources through tsx (a devDependency), as the tests and the
// quickstart do, so an edit is never shadowed by a stale dist/.
import fs from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
if (fs.existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import('../dist/cli/main.js');
}
