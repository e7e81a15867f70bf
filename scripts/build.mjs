#!/usr/bin/env node
// `npm run build`: src/ compiled to plain JavaScript in dist/, which the
// installed package runs without tsx. `prepare` runs it too, so `npm pack`,
// `npm publish` and installs from git (where npm runs prepare alone, not
// prepack) build it; in a checkout it costs `npm install` under a second,
// though the checkout itself runs its sources (bin/lapis.js).
//
// - esbuild transpiles each file on its own, as tsx does when the tests run
//   the sources, so dist/ is the code the tests judge; in under a second,
//   where tsc's emit takes some 25 s of two cores. Types are checked by
//   `npm run typecheck` (in `npm test`). The two programs' entries are then
//   bundled from the same sources (below).
// - Files Node runs as they are (the agent's launcher-process.mjs and
//   no-follow-open.mjs, started by their path next to the agent's modules)
//   are copied to the same place in dist/; type declarations are not.
// - src/testkit/ is for the tests alone (nothing in src/ imports it).
// - src/agent/native/ is C, built by `npm install` (scripts/build-native.mjs):
//   only its product, lapis_spawn.node, is copied, beside the launcher in
//   dist/agent/, where the launcher looks for it first.
// - src/ui/ is the dashboard's browser code: bundled (with Preact) into
//   dist/ui/app.js beside its page and style sheet, at the end.
// - dist/package.json says its .js files are ES modules even where dist/ is
//   read without the package root beside it (a container node mounts dist/
//   and the packages' directory only), so Node need not guess from syntax.

import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OUTSIDE_PACKAGES, programBundle, quickstartBundleFile } from './program-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = path.join(root, 'src');
const output = path.join(root, 'dist');
const UI = path.join(source, 'ui');
const NATIVE = path.join(source, 'agent', 'native');
const LEFT_OUT = [path.join(source, 'testkit'), UI, NATIVE];
const PROGRAMS = [path.join(source, 'cli', 'main.ts'), path.join(source, 'agent', 'agent-main.ts')];

function filesUnder(directory) {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(directory, entry.name);
    if (LEFT_OUT.includes(file)) return [];
    return entry.isDirectory() ? filesUnder(file) : [file];
  });
}

const isDeclaration = (file) => /\.d\.[cm]?ts$/.test(file);
const files = filesUnder(source).filter((file) => !isDeclaration(file));
const typescript = files.filter((file) => file.endsWith('.ts'));
const asIs = files.filter((file) => !file.endsWith('.ts'));

// A fresh dist/: a module deleted from src/ must not linger in the package.
fs.rmSync(output, { recursive: true, force: true });
await build({
  entryPoints: typescript,
  outdir: output,
  outbase: source,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
});
for (const file of asIs) {
  const target = path.join(output, path.relative(source, file));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(file, target);
}
const nativeSpawner = path.join(NATIVE, 'build', 'Release', 'lapis_spawn.node');
if (fs.existsSync(nativeSpawner)) fs.copyFileSync(nativeSpawner, path.join(output, 'agent', 'lapis_spawn.node'));
fs.writeFileSync(path.join(output, 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`);

// The two programs, `lapis` (dist/cli/main.js) and the node agent
// (dist/agent/agent-main.js), are then each bundled into that one file with
// the packages they load at start: loading some 250 modules one by one, and
// then the CommonJS packages one by one through `import` (Node's loader
// resolving each and scanning it for its exports), was most of a start's CPU
// (bench/README.md, "Start-up"). Every module keeps the `import.meta.url` it
// has in the per-file dist/ above (own-import-meta-url.mjs); both bundles sit
// two levels down in dist/, so one relative URL serves either.
await build({
  entryPoints: PROGRAMS,
  outdir: output,
  outbase: source,
  allowOverwrite: true,
  ...programBundle({ source, output, bundleDirectory: path.join(output, 'cli') }),
});

// Azurite's blob server, which the blob endpoint loads at its first
// connection (blob/embedded-blob-server.ts), bundled into one CommonJS file
// beside that module: required from its package it is some 600 modules,
// each resolved, read and compiled (about 0.4 s of CPU; bundled, about 0.2
// s). `applicationinsights` is left out (an empty module): Azurite only
// uses it when its own command line turns telemetry on, and loaded it hooks
// `require` for every module after it.
await build({
  stdin: {
    contents: "exports.BlobConfiguration = require('azurite/dist/src/blob/BlobConfiguration').default;\nexports.BlobServer = require('azurite/dist/src/blob/BlobServer').default;\n",
    resolveDir: root,
    sourcefile: 'azurite-blob-server.cjs',
  },
  outfile: path.join(output, 'blob', 'azurite-blob-server.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  keepNames: true,
  logLevel: 'warning',
  plugins: [
    {
      name: 'leave-out-applicationinsights',
      setup(builder) {
        builder.onResolve({ filter: /^applicationinsights$/ }, () => ({ path: 'applicationinsights', namespace: 'left-out' }));
        builder.onLoad({ filter: /.*/, namespace: 'left-out' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
      },
    },
  ],
});

// The dashboard (docs/dashboard.md): one minified browser bundle, which the
// package ships, so an installed Lapis needs neither esbuild nor a network.
// api/dashboard/assets.ts serves it, or builds the same from src/ui/ when the
// sources run.
await build({
  entryPoints: [path.join(UI, 'main.tsx')],
  outfile: path.join(output, 'ui', 'app.js'),
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
});
for (const name of ['index.html', 'styles.css']) fs.copyFileSync(path.join(UI, name), path.join(output, 'ui', name));

// In a checkout, `npm run quickstart`'s program (scripts/quickstart.mjs):
// the example with the Lapis it starts, bundled like the two programs with
// the Azure SDK clients inside too (the example uses them at once). Built
// here, with `npm install`, so that no run of the quickstart waits for
// esbuild (0.5–2 s for the some 1,500 files).
const quickstart = path.join(root, 'examples', 'quickstart', 'main.ts');
if (fs.existsSync(quickstart)) {
  const outfile = quickstartBundleFile(root);
  await build({
    entryPoints: [quickstart],
    outfile,
    ...programBundle({ source, output, bundleDirectory: path.dirname(outfile), external: OUTSIDE_PACKAGES.filter((name) => !name.startsWith('@azure/')) }),
  });
}
