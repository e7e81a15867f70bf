// Lapis's own container image (Dockerfile): built with Podman from the packed
// package on a Node.js base image made on this machine (no image registry is
// reachable: scripts/build-test-node-base-image.sh, which .ci/run's
// install-container-tools.sh runs), run as a user would run it (ports
// published, data in a volume, the ulimits the container node provider
// gives), and driven from the host through @azure/batch and
// @azure/storage-blob with the quickstart's flow: upload, pool, job, tasks,
// their output. Skipped, saying why, where Podman or the base image is missing.

import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { runQuickstart } from '../../examples/quickstart/quickstart.js';
import { DEV_ACCOUNT, DEV_STORAGE } from '../../src/config/config.js';
import { waitFor } from '../../src/testkit/test-server.js';
import { pack, REPOSITORY } from '../package/packed-install.js';

const run = promisify(execFile);
const BASE = 'localhost/lapis-test/node:20-bookworm';
const IMAGE = 'localhost/lapis-test/lapis:test';
/** What the container node provider gives its containers too: Podman's defaults fail with runc here. */
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
/** What the build context holds besides the tarball (.dockerignore lets in nothing else). */
const CONTEXT_FILES = ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json'];

function unavailable(): string | undefined {
  try {
    execFileSync('podman', ['image', 'exists', BASE], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `needs podman and the image ${BASE} (scripts/build-test-node-base-image.sh)`;
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the Lapis container image', { skip: unavailable() }, () => {
  const name = `lapis-image-test-${process.pid}`;
  let context: string;

  before(async () => {
    context = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-image-'));
    await pack(context);
    for (const file of CONTEXT_FILES) fs.copyFileSync(path.join(REPOSITORY, file), path.join(context, file));
    // The layers of the dependencies stay cached between runs while package.json and the lockfile do not change.
    await run('podman', ['build', '--runtime', 'runc', '--build-arg', `BASE=${BASE}`, '-t', IMAGE, context], { maxBuffer: 64 << 20 });
  });

  after(async () => {
    await run('podman', ['rm', '--force', '--time', '2', name]).catch(() => undefined);
    await run('podman', ['volume', 'rm', '--force', name]).catch(() => undefined);
    fs.rmSync(context, { recursive: true, force: true });
  });

  test('runs the packed package, serves on published ports with its data in a volume, and the quickstart flow works against it', { timeout: 900_000 }, async () => {
    // The same port inside and out: the SAS URLs the client makes for the tasks name the blob endpoint as the host sees it.
    const [batchPort, blobPort] = [await freePort(), await freePort()];
    await run('podman', [
      'run', '--detach', '--runtime', 'runc', ...ULIMITS, '--name', name,
      '--publish', `127.0.0.1:${batchPort}:${batchPort}`, '--publish', `127.0.0.1:${blobPort}:${blobPort}`,
      '--volume', `${name}:/var/lib/lapis`,
      IMAGE, 'serve', '--port', String(batchPort), '--blob-port', String(blobPort),
    ]);
    const batchUrl = `http://127.0.0.1:${batchPort}`;
    await waitFor(async () => ((await fetch(`${batchUrl}/health`).catch(() => undefined))?.ok ? true : undefined), { timeoutMs: 60_000, what: 'Lapis in its container to answer /health' });

    const { version } = JSON.parse(fs.readFileSync(path.join(REPOSITORY, 'package.json'), 'utf8')) as { version: string };
    assert.equal((await run('podman', ['exec', name, 'lapis', '--version'])).stdout.trim(), version);
    const installed = (await run('podman', ['exec', name, 'ls', '/opt/lapis'])).stdout.split('\n').filter(Boolean);
    assert.ok(installed.includes('dist') && !installed.includes('src'), `the packed package, compiled, without sources: ${installed.join(' ')}`);

    const lines: string[] = [];
    const ok = await runQuickstart({
      batchUrl,
      batchAccount: DEV_ACCOUNT.name,
      batchKey: DEV_ACCOUNT.key,
      blobUrl: `http://127.0.0.1:${blobPort}/${DEV_STORAGE.accountName}`,
      storageAccount: DEV_STORAGE.accountName,
      storageKey: DEV_STORAGE.accountKey,
      log: (line) => lines.push(line),
    });
    const logs = (await run('podman', ['logs', name]).catch(() => ({ stdout: '', stderr: '' }))).stderr;
    assert.equal(ok, true, `the quickstart succeeded: ${lines.join('\n')}\n${logs.slice(-4000)}`);
    assert.ok(lines.some((line) => line.includes('The second input file')), `the tasks printed their input files: ${lines.join('\n')}`);
    // The store is in the volume.
    await run('podman', ['exec', name, 'test', '-s', '/var/lib/lapis/lapis.db']);
  });
});
