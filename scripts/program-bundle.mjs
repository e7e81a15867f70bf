// How a program of Lapis's is bundled by esbuild: `lapis` and the node agent
// (scripts/build.mjs), and the quickstart with the Lapis it starts
// (scripts/quickstart.mjs). The packages go into the bundle with Lapis's
// own modules: loaded one by one through `import`, each CommonJS package
// resolved and scanned for its exports by Node's loader, they were most of
// a start's CPU (bench/README.md, "Start-up").

import path from 'node:path';
import { ownImportMetaUrl } from './own-import-meta-url.mjs';

// Left outside, loaded from node_modules when used: better-sqlite3 finds its
// native module beside its own files; Azurite, the Azure SDK clients and
// esbuild are large and used only at times (the blob endpoint's first
// connection, a client command, a source tree), so a start does not parse
// them. (pino-pretty and node-forge are loaded through createRequire, which
// the bundler does not follow.)
export const OUTSIDE_PACKAGES = ['better-sqlite3', 'azurite', '@azure/batch', '@azure/storage-blob', 'esbuild'];

/**
 * esbuild's options for one program bundle, to be given its entry points and output.
 * @param {{ source: string, output: string, bundleDirectory: string, external?: string[] }} where
 *   src/, dist/, the directory the bundle is written to (own-import-meta-url.mjs), and the packages left outside
 */
export function programBundle({ source, output, bundleDirectory, external = OUTSIDE_PACKAGES }) {
  return {
    bundle: true,
    external,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    // Names as written: classes of different packages that share a name are
    // renamed in one bundle, and some packages check a constructor's name
    // (node-fetch, under @azure/batch, an AbortSignal's).
    keepNames: true,
    // The CommonJS packages inside call require() for Node's modules and for
    // what stays outside; an ES module has none, so the banner makes one.
    // (pino's transports, which find their worker files by __dirname, would
    // not work bundled; Lapis logs through pino.destination and pino-pretty.)
    banner: { js: "import { createRequire as createRequireForBundle } from 'node:module';\nconst require = createRequireForBundle(import.meta.url);" },
    plugins: [ownImportMetaUrl({ source, output, bundleDirectory })],
  };
}

/**
 * Where `npm run build` writes the quickstart (examples/quickstart with the
 * Lapis it starts) bundled, in a checkout, and `npm run quickstart` runs it:
 * under node_modules, where the packages left outside resolve.
 */
export function quickstartBundleFile(root) {
  return path.join(root, 'node_modules', '.cache', 'lapis-quickstart', 'main.mjs');
}
