// The dashboard's page, script and style sheet.
//
// An installed package serves what `npm run build` bundled into dist/ui/
// (scripts/build.mjs). A checkout running its sources (the tests, through tsx)
// has no bundle beside this module: it bundles src/ui/main.tsx with esbuild
// (a devDependency, present wherever sources run) on the first request and
// keeps the result for the life of the process, some 100 ms once. Both paths
// read the same relative directory: src/api/dashboard → src/ui, and
// dist/api/dashboard → dist/ui.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  contentType: string;
}

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'styles.css': 'text/css; charset=utf-8',
};


const uiDirectory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'ui');

async function bundleFromSource(): Promise<Buffer> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [path.join(uiDirectory, 'main.tsx')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no dashboard bundle');
  return Buffer.from(output.contents);
}

export class DashboardAssets {
  private readonly loaded = new Map<string, Promise<Asset>>();

  /** The named asset, or undefined for a name the dashboard does not have. */
  get(name: string): Promise<Asset> | undefined {
    const contentType = TYPES[name];
    if (contentType === undefined) return undefined;
    let asset = this.loaded.get(name);
    if (!asset) {
      asset = this.read(name).then((body) => ({ body, contentType }));
      // A failed build is tried again on the next request rather than kept.
      asset.catch(() => this.loaded.delete(name));
      this.loaded.set(name, asset);
    }
    return asset;
  }

  private async read(name: string): Promise<Buffer> {
    const file = path.join(uiDirectory, name);
    if (fs.existsSync(file)) return fs.promises.readFile(file);
    if (name === 'app.js') return bundleFromSource();
    throw new Error(`the dashboard asset ${file} is missing`);
  }
}
