// Application packages as a node gets them over the agent protocol: the
// server answers only for packages a run sent to the node names, and the
// agent writes a manifest's entries into the node, refusing entries that
// would leave the package's directory. Real files on both sides.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { PackageManifest } from '../../src/api/node/protocol.js';
import { installApplicationPackages, type FetchPackage } from '../../src/agent/node-setup.js';
import { NodePackageGrants } from '../../src/providers/local/node-package-grants.js';

let work: string;

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-package-transfer-'));
});

after(() => fs.rmSync(work, { recursive: true, force: true }));

function sourcePackage(): string {
  const source = fs.mkdtempSync(path.join(work, 'source-'));
  fs.mkdirSync(path.join(source, 'bin'), { mode: 0o750 });
  fs.writeFileSync(path.join(source, 'bin', 'tool'), '#!/bin/sh\necho tool\n', { mode: 0o755 });
  fs.writeFileSync(path.join(source, 'big.bin'), Buffer.alloc(200_000, 3), { mode: 0o640 });
  fs.writeFileSync(path.join(source, 'empty'), '');
  fs.symlinkSync('bin/tool', path.join(source, 'run'));
  return source;
}

function fetchFrom(grants: NodePackageGrants, nodeId: string): FetchPackage {
  return async (directory) => {
    const answer = await grants.read(nodeId, directory);
    return { manifest: answer.value as PackageManifest, content: answer.content };
  };
}

test('a granted package arrives whole: files, modes, sizes and links; the node is never told the server path', async () => {
  const source = sourcePackage();
  const grants = new NodePackageGrants();
  const sent = grants.grant('node-1', [{ sourcePath: source, directory: 'applications/tool1.0', variables: ['AZ_BATCH_APP_PACKAGE_tool_1_0'] }]);
  assert.deepEqual(sent, [{ directory: 'applications/tool1.0', variables: ['AZ_BATCH_APP_PACKAGE_tool_1_0'] }]);
  const nodeRoot = fs.mkdtempSync(path.join(work, 'node-'));
  fs.mkdirSync(path.join(nodeRoot, 'applications'));
  await installApplicationPackages(nodeRoot, sent, fetchFrom(grants, 'node-1'));
  const installed = path.join(nodeRoot, 'applications', 'tool1.0');
  assert.equal(fs.readFileSync(path.join(installed, 'bin', 'tool'), 'utf8'), '#!/bin/sh\necho tool\n');
  assert.equal(fs.statSync(path.join(installed, 'bin', 'tool')).mode & 0o777, 0o755);
  assert.equal(fs.statSync(path.join(installed, 'bin')).mode & 0o777, 0o750);
  assert.deepEqual(fs.readFileSync(path.join(installed, 'big.bin')), Buffer.alloc(200_000, 3));
  assert.equal(fs.statSync(path.join(installed, 'big.bin')).mode & 0o777, 0o640);
  assert.equal(fs.readFileSync(path.join(installed, 'empty'), 'utf8'), '');
  assert.equal(fs.readlinkSync(path.join(installed, 'run')), 'bin/tool');
  assert.equal(fs.statSync(installed).mode & 0o777, 0o755);
  assert.deepEqual(fs.readdirSync(path.join(nodeRoot, 'applications')), ['tool1.0'], 'no staging directory left');
});

test('a node reads only the packages its own runs name, and none after it is released', async () => {
  const source = sourcePackage();
  const grants = new NodePackageGrants();
  grants.grant('node-1', [{ sourcePath: source, directory: 'applications/tool1.0', variables: [] }]);
  await assert.rejects(grants.read('node-2', 'applications/tool1.0'), /No run of this node names/);
  await assert.rejects(grants.read('node-1', 'applications/other1.0'), /No run of this node names/);
  grants.revoke('node-1');
  await assert.rejects(grants.read('node-1', 'applications/tool1.0'), /No run of this node names/);
});

test('manifest entries that would leave the package directory are refused and leave nothing behind', async () => {
  const outside = path.join(work, 'outside');
  fs.mkdirSync(outside, { recursive: true });
  const hostile: PackageManifest[] = [
    { entries: [{ path: '../escaped', kind: 'file', mode: 0o644, size: 1 }] },
    { entries: [{ path: '/etc/escaped', kind: 'file', mode: 0o644, size: 1 }] },
    {
      entries: [
        { path: 'link', kind: 'symlink', target: outside },
        { path: 'link/escaped', kind: 'file', mode: 0o644, size: 1 },
      ],
    },
  ];
  for (const manifest of hostile) {
    const nodeRoot = fs.mkdtempSync(path.join(work, 'node-'));
    fs.mkdirSync(path.join(nodeRoot, 'applications'));
    const fetch: FetchPackage = async () => ({ manifest, content: (async function* () { yield Buffer.from('x'); })() });
    await assert.rejects(installApplicationPackages(nodeRoot, [{ directory: 'applications/evil1.0', variables: [] }], fetch), /not a path inside the package|below a link/);
    assert.deepEqual(fs.readdirSync(path.join(nodeRoot, 'applications')), [], JSON.stringify(manifest));
  }
  assert.deepEqual(fs.readdirSync(outside), []);
});

test('content shorter than the manifest says fails the install', async () => {
  const nodeRoot = fs.mkdtempSync(path.join(work, 'node-'));
  fs.mkdirSync(path.join(nodeRoot, 'applications'));
  const fetch: FetchPackage = async () => ({
    manifest: { entries: [{ path: 'data', kind: 'file', mode: 0o644, size: 10 }] },
    content: (async function* () { yield Buffer.from('short'); })(),
  });
  await assert.rejects(installApplicationPackages(nodeRoot, [{ directory: 'applications/cut1.0', variables: [] }], fetch), /ended early/);
  assert.deepEqual(fs.readdirSync(path.join(nodeRoot, 'applications')), []);
});
