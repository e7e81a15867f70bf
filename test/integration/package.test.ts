// The package as users get it: `npm pack`, `npm install -g` of the tarball,
// then `lapis` from another directory, running the compiled dist/ with
// nothing of the repository (no sources, no tsx), its nodes' agents included.

import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import { BlobServiceClient } from '@azure/storage-blob';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { poolSpec, readStream, uniqueId, waitForPoolSteady, waitForTaskState } from '../../src/testkit/builders.js';
import { waitFor } from '../../src/testkit/test-server.js';
import { installGlobally, makePrefix, pack, REPOSITORY, userEnvironment } from '../package/packed-install.js';

const run = promisify(execFile);
const { version } = JSON.parse(fs.readFileSync(path.join(REPOSITORY, 'package.json'), 'utf8')) as { version: string };

/** Files the agent starts by path beside its compiled modules. */
const AGENT_FILES = ['dist/agent/agent-main.js', 'dist/agent/launcher-process.mjs', 'dist/agent/no-follow-open.mjs'];
/** What the package must not carry: sources, tests, benchmarks, CI, scripts, caches. */
const NOT_SHIPPED = /^(src|test|bench|\.ci|scripts|examples|node_modules)\//;

interface ReadyJson {
  batchUrl: string;
  accounts: { name: string; key: string }[];
  blobConnectionString: string;
}

function serve(lapis: string, args: string[], cwd: string): { child: ChildProcess; ready: Promise<ReadyJson>; stderr: () => string } {
  const child = spawn(lapis, ['serve', '--port', '0', '--blob-port', '0', '--ready-json', '--log-level', 'warn', ...args], { cwd, env: userEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<ReadyJson>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) resolve(JSON.parse(line) as ReadyJson);
    });
    child.once('exit', (code) => reject(new Error(`lapis serve exited with ${code} before ready: ${stderr}`)));
  });
  return { child, ready, stderr: () => stderr };
}

/** The command lines of this machine's processes that run `program`. */
function processesRunning(program: string): string[][] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return argv.includes(program) ? [argv] : [];
      } catch {
        return [];
      }
    });
}

test('npm pack → npm install -g → lapis --version and lapis serve from another directory run a task on a compiled agent', { timeout: 300_000 }, async () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-package-'));
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-elsewhere-'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-package-data-'));
  const prefix = makePrefix(scratch);
  let server: ReturnType<typeof serve> | undefined;
  try {
    const packed = await pack(scratch);
    for (const file of [...AGENT_FILES, 'dist/cli/main.js', 'dist/blob/azurite-blob-server.cjs', 'dist/ui/app.js', 'dist/ui/index.html', 'dist/ui/styles.css', 'bin/lapis.js', 'LICENSE', 'CHANGELOG.md', 'README.md']) {
      assert.ok(packed.files.includes(file), `the package holds ${file}`);
    }
    assert.deepEqual(
      packed.files.filter((file) => NOT_SHIPPED.test(file) || file.startsWith('dist/testkit/')),
      [],
      'no sources, tests, bench results, CI or caches',
    );

    const installed = await installGlobally(packed.tarball, prefix, scratch, elsewhere);
    // npm lists a tarball's own prepare, which it never runs for one, under any allow-scripts (npm/cli#9488): the README explains it.
    const unreviewed = [...installed.warnings.matchAll(/^npm warn install-scripts +(\S+)@\S+ \(/gm)].map((match) => match[1]);
    assert.deepEqual(unreviewed.filter((name) => name !== 'lapis'), [], 'the documented install command reviews every dependency install script');
    const shipped = path.join(installed.packageDirectory, 'node_modules');
    for (const development of ['tsx', 'esbuild', 'typescript']) {
      assert.ok(!fs.existsSync(path.join(shipped, development)), `${development} is not installed with the package`);
    }
    assert.ok(!fs.existsSync(path.join(installed.packageDirectory, 'src')));

    const printed = await run(installed.lapis, ['--version'], { cwd: elsewhere, env: userEnvironment() });
    assert.equal(printed.stdout.trim(), version);

    server = serve(installed.lapis, ['--data', dataDir], elsewhere);
    const ready = await server.ready;
    // The dashboard's bundle ships built: served without esbuild, which the package does not install.
    const script = await fetch(`${ready.batchUrl}/ui/assets/app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
    // The blob endpoint runs the Azurite the package carries bundled.
    const container = BlobServiceClient.fromConnectionString(ready.blobConnectionString).getContainerClient(uniqueId('package').toLowerCase());
    await container.create();
    await container.getBlockBlobClient('hello.txt').upload('hello from the blob endpoint', 28);
    assert.equal((await container.getBlockBlobClient('hello.txt').downloadToBuffer()).toString(), 'hello from the blob endpoint');
    const account = ready.accounts[0]!;
    const batch = new BatchServiceClient(new BatchSharedKeyCredentials(account.name, account.key), ready.batchUrl);
    const poolId = uniqueId('PackagePool');
    const jobId = uniqueId('PackageJob');
    await batch.pool.add(poolSpec(poolId));
    await waitForPoolSteady(batch, poolId);
    await batch.job.add({ id: jobId, poolInfo: { poolId } });
    await batch.task.add(jobId, { id: 'hello', commandLine: "/bin/sh -c 'echo hello from the package'" });
    const task = await waitForTaskState(batch, jobId, 'hello', 'completed');
    assert.equal(task.executionInfo?.exitCode, 0, server.stderr());
    assert.equal((await readStream((await batch.file.getFromTask(jobId, 'hello', 'stdout.txt')).readableStreamBody)).trim(), 'hello from the package');

    const agent = path.join(fs.realpathSync(installed.packageDirectory), 'dist', 'agent', 'agent-main.js');
    assert.equal(processesRunning(agent).length, 1, 'the node agent runs the compiled agent of the installed package');

    const exited = new Promise((resolve) => server!.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    assert.equal(await exited, 0);
    await waitFor(() => (processesRunning(agent).length === 0 ? true : undefined), { what: 'the agent to end with its server' });
  } finally {
    server?.child.kill('SIGKILL');
    for (const directory of [prefix, scratch, elsewhere, dataDir]) fs.rmSync(directory, { recursive: true, force: true });
  }
});
