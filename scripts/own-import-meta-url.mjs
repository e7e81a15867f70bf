// An esbuild plugin for bundling Lapis's sources: every module of src/ keeps
// the `import.meta.url` it has in the per-file dist/ (scripts/build.mjs), so
// what it finds beside itself (the agent's launcher, the Batch models' JSON,
// package.json, the agent program) it finds there, wherever the bundle sits.

import fs from 'node:fs';
import path from 'node:path';

/**
 * @param {{ source: string, output: string, bundleDirectory: string }} where
 *   src/, dist/, and the directory the bundle (every bundle of this build) is written to
 */
export function ownImportMetaUrl({ source, output, bundleDirectory }) {
  return {
    name: 'own-import-meta-url',
    setup(builder) {
      builder.onLoad({ filter: /\.ts$/ }, (args) => {
        if (!args.path.startsWith(source + path.sep)) return undefined;
        const compiled = path.join(output, path.relative(source, args.path)).replace(/\.ts$/, '.js');
        const relative = path.relative(bundleDirectory, compiled).split(path.sep).join('/');
        const contents = fs.readFileSync(args.path, 'utf8').replaceAll('import.meta.url', `new URL(${JSON.stringify(relative)}, import.meta.url).href`);
        return { contents, loader: 'ts' };
      });
    },
  };
}
