import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { poolSpec, waitForPoolSteady } from '../../src/testkit/builders.js';

const BIN = path.resolve('bin/lapis.js');

function startServe(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; ready: Promise<Record<string, string>> } {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--blob-port', '0', '--log-level', 'warn', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = new Promise<Record<string, string>>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/^ready$/m.test(output)) {
        const fields: Record<string, string> = {};
        for (const line of output.split('\n')) {
          const match = /^([A-Za-z ]+):\s+(.*)$/.exec(line);
          if (match) fields[match[1] as string] = match[2] as string;
        }
        resolve(fields);
      }
    });
    child.once('exit', (code) => reject(new Error(`lapis serve exited with ${code} before ready: ${output}`)));
  });
  return { child, ready };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

test('lapis serve prints the endpoints and keys, answers /health, requires auth elsewhere, and stops on SIGTERM', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-cli-'));
  const { child, ready } = startServe(['--data', dataDir]);
  try {
    const fields = await ready;
    const batchUrl = fields['Batch URL'] as string;
    assert.match(batchUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(fields['Batch account'], 'lapis');
    assert.ok(fields['Batch key']);
    assert.match(fields['Blob URL'] ?? '', /^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
    assert.equal(fields['Storage account'], 'devstoreaccount1');

    assert.equal((await fetch(`${batchUrl}/health`)).status, 200);
    const anonymous = await fetch(`${batchUrl}/pools?api-version=2022-10-01.16.0`);
    assert.equal(anonymous.status, 403);
    assert.equal(((await anonymous.json()) as { code: string }).code, 'AuthenticationFailed');

    const batch = new BatchServiceClient(new BatchSharedKeyCredentials('lapis', fields['Batch key'] as string), batchUrl);
    await batch.pool.add(poolSpec('CliPool'));
    await waitForPoolSteady(batch, 'CliPool');
    assert.ok(fs.existsSync(path.join(dataDir, 'lapis.db')), 'the store lives in --data');

    const code = exited(child);
    child.kill('SIGTERM');
    assert.equal(await code, 0);
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('--account and LAPIS_ACCOUNTS choose the accounts', async () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  const { child, ready } = startServe(['--in-memory', '--account', `alpha:${key}`], { LAPIS_ACCOUNTS: 'ignored:aWdub3JlZGlnbm9yZWRpZ25vcmVk' });
  try {
    const fields = await ready;
    assert.equal(fields['Batch account'], 'alpha');
    const batch = new BatchServiceClient(new BatchSharedKeyCredentials('alpha', key), fields['Batch URL'] as string);
    assert.equal((await batch.pool.list()).length, 0);
    const code = exited(child);
    child.kill('SIGINT');
    assert.equal(await code, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('lapis app add registers a package version that the served account lists', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-app-'));
  const source = path.join(dataDir, 'package');
  fs.mkdirSync(source);
  fs.writeFileSync(path.join(source, 'tool.sh'), '#!/bin/sh\necho tool\n');
  const added = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'app', 'add', 'tool', '1.2', source, '--data', path.join(dataDir, 'data'), '--default'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout }));
  });
  assert.equal(added.code, 0);
  assert.deepEqual(JSON.parse(added.stdout), { id: 'tool', displayName: 'tool', versions: ['1.2'] });
  const { child, ready } = startServe(['--data', path.join(dataDir, 'data')]);
  try {
    const fields = await ready;
    const batch = new BatchServiceClient(new BatchSharedKeyCredentials(fields['Batch account'] as string, fields['Batch key'] as string), fields['Batch URL'] as string);
    const applications = await batch.application.list();
    assert.deepEqual(applications.map((application) => [application.id, application.versions]), [['tool', ['1.2']]]);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('lapis --version prints the version of package.json', async () => {
  const { version } = JSON.parse(fs.readFileSync(path.resolve('package.json'), 'utf8')) as { version: string };
  const printed = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, '--version'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout }));
  });
  assert.equal(printed.code, 0);
  assert.equal(printed.stdout, `${version}\n`);
});
