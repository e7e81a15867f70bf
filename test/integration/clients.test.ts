// The two other official clients judge Lapis: Python azure-batch (Debian
// python3-azure) runs test/clients/python/*_check.py and the az CLI (Debian
// azure-cli) runs test/clients/az/*_check.sh, against a real Lapis started
// in-process. Each is skipped, with the reason, when its client is not
// installed; `bash scripts/install-client-tools.sh` installs both (CI does).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { DEV_STORAGE } from '../../src/config/config.js';
import { TEST_NODE_IMAGE, testNodeImageMissing } from '../../src/testkit/test-node-image.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

const CLIENTS = fileURLToPath(new URL('../clients/', import.meta.url));
const SCRIPT_TIMEOUT_MS = 5 * 60_000;
const INSTALL_HINT = 'run `bash scripts/install-client-tools.sh` to install it';

/** Debian's python3-azure is in the system interpreter, which a pyenv or venv python3 on PATH may hide. */
function findPython(): string | undefined {
  return ['/usr/bin/python3', 'python3'].find(
    (python) => spawnSync(python, ['-c', 'import azure.batch, azure.storage.blob'], { stdio: 'ignore' }).status === 0,
  );
}

const hasAz = spawnSync('sh', ['-c', 'command -v az'], { stdio: 'ignore' }).status === 0;
const python = findPython();

function scripts(folder: string, suffix: string): string[] {
  return fs
    .readdirSync(path.join(CLIENTS, folder))
    .filter((name) => name.endsWith(suffix))
    .sort();
}

/** Runs a check script; resolves with its exit code and its stdout and stderr interleaved. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: SCRIPT_TIMEOUT_MS });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, output: signal ? `${output}\n(killed by ${signal})` : output }));
  });
}

let server: TestServer;
let env: NodeJS.ProcessEnv;
before(async () => {
  if (!python && !hasAz) return;
  // --faults for faults_check.py (docs/testing-your-batch-app.md); no other check adds a fault, so none meets one.
  server = await startTestServer({ config: { faults: true } });
  env = {
    BATCH_URL: server.lapis.batchUrl,
    BATCH_ACCOUNT: server.account.name,
    BATCH_KEY: server.account.key,
    BLOB_URL: server.lapis.storageAccountUrl,
    STORAGE_ACCOUNT: DEV_STORAGE.accountName,
    STORAGE_KEY: DEV_STORAGE.accountKey,
    PYTHONDONTWRITEBYTECODE: '1',
    // The container checks (containers_check.py, containers_check.sh) run in the image built here, else say SKIP and why.
    ...(testNodeImageMissing() ? {} : { CONTAINER_IMAGE: TEST_NODE_IMAGE }),
  };
});
after(async () => {
  await server?.stop();
});

async function check(t: { diagnostic(message: string): void }, command: string, script: string): Promise<void> {
  const { code, output } = await run(command, [script], env);
  // Checks a script skips (a Lapis difference still to fix) stay visible in the TAP output.
  for (const line of output.split('\n').filter((line) => line.startsWith('SKIP '))) t.diagnostic(line);
  assert.equal(code, 0, `${path.relative(process.cwd(), script)} failed:\n${output}`);
}

describe('Python azure-batch against Lapis', () => {
  const skip = python ? false : `Python azure-batch is not installed (python3 cannot import azure.batch and azure.storage.blob); ${INSTALL_HINT}`;
  for (const name of scripts('python', '_check.py')) {
    test(name, { skip }, (t) => check(t, python as string, path.join(CLIENTS, 'python', name)));
  }
});

// One at a time. Each script keeps one az running for all its commands (lib.sh, az_server.py): started
// afresh, az costs about 0.7 s of CPU per command, which made these checks the slowest part of npm test.
describe('az batch against Lapis', () => {
  const skip = hasAz ? false : `the az CLI is not installed; ${INSTALL_HINT}`;
  for (const name of scripts('az', '_check.sh')) {
    test(name, { skip }, (t) => check(t, 'bash', path.join(CLIENTS, 'az', name)));
  }
});
