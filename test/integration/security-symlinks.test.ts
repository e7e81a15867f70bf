// A task cannot escape its node through links it plants (issue 10, items 2
// and 4), through @azure/batch with a root-run server and unprivileged
// tasks. Each test performs the attack as a task would — it replaces a file
// the agent (root) writes with a symlink to a root-only victim file, or swaps
// a directory for a symlink to a root-only directory while the file API is
// asked about a file inside it — and checks that the victim is unchanged
// (content, mode, owner) and that nothing of it was served.

import { BlobSASPermissions, ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEV_STORAGE } from '../../src/config/config.js';
import { addPoolAndWait, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { PRIMARY_API_VERSION, signedRequest } from '../../src/testkit/signed-request.js';
import { makeTestCertificate, OPENSSL_MISSING } from '../../src/testkit/test-certificates.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

const NOT_ROOT = process.getuid?.() !== 0 && 'tasks run as an unprivileged user only when Lapis runs as root';
const RECURSIVE = `api-version=${PRIMARY_API_VERSION}&recursive=true`;
const SECRET = 'ROOT-ONLY-SECRET: never to be written, served or chowned\n';

let server: TestServer;
/** Root-only (0700) directory outside the data directory, with the victim file (0600) in it. */
let victimDirectory: string;
let victim: string;
let poolId: string;

function assertVictimUnchanged(): void {
  const stats = fs.lstatSync(victim);
  assert.ok(stats.isFile());
  assert.equal(fs.readFileSync(victim, 'utf8'), SECRET, 'the victim\'s content is unchanged');
  assert.equal(stats.mode & 0o7777, 0o600, 'the victim\'s mode is unchanged');
  assert.equal(stats.uid, 0, 'the victim still belongs to root');
  assert.equal(stats.gid, 0);
  const directory = fs.statSync(victimDirectory);
  assert.equal(directory.mode & 0o7777, 0o700);
  assert.equal(directory.uid, 0);
  assert.deepEqual(fs.readdirSync(victimDirectory), ['secret.txt'], 'nothing was added to or removed from the victim directory');
}

async function newJob(pool = poolId): Promise<string> {
  const jobId = uniqueId('Job');
  await server.batch.job.add({ id: jobId, poolInfo: { poolId: pool } });
  return jobId;
}

async function taskFile(jobId: string, taskId: string, file: string): Promise<string> {
  return readStream((await server.batch.file.getFromTask(jobId, taskId, file)).readableStreamBody);
}

const credential = () => new StorageSharedKeyCredential(DEV_STORAGE.accountName, DEV_STORAGE.accountKey);

describe('links a task plants are never followed by the agent', { skip: NOT_ROOT }, () => {
  before(async () => {
    server = await startTestServer();
    victimDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-victim-'));
    fs.chmodSync(victimDirectory, 0o700);
    victim = path.join(victimDirectory, 'secret.txt');
    fs.writeFileSync(victim, SECRET, { mode: 0o600 });
    fs.chmodSync(victim, 0o600);
    poolId = uniqueId('Links');
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 2, taskSlotsPerNode: 2, enableInterNodeCommunication: true });
  });

  after(async () => {
    await server?.stop();
    if (victimDirectory) fs.rmSync(victimDirectory, { recursive: true, force: true });
  });

  test('resource file: a retry and a reactivation replace a planted link instead of writing and chowning through it', async () => {
    const container = server.blob.getContainerClient(uniqueId('links').toLowerCase());
    await container.create();
    await container.getBlockBlobClient('input.txt').upload('downloaded\n', 11);
    const sas = generateBlobSASQueryParameters(
      { containerName: container.containerName, blobName: 'input.txt', permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3_600_000) },
      credential(),
    ).toString();
    const jobId = await newJob();
    // Each run notes what it found at input.txt, then leaves a link to the victim there and fails.
    const script = `if [ -L input.txt ]; then echo link >> seen.log; else cat input.txt >> seen.log; fi; ln -sf ${victim} input.txt; exit 1`;
    await server.batch.task.add(jobId, {
      id: 'plant',
      commandLine: `/bin/sh -c "${script}"`,
      resourceFiles: [{ httpUrl: `${container.getBlockBlobClient('input.txt').url}?${sas}`, filePath: 'input.txt', fileMode: '0644' }],
      constraints: { maxTaskRetryCount: 1 },
    });
    const failed = await waitForTaskState(server.batch, jobId, 'plant', 'completed');
    assert.equal(failed.executionInfo?.retryCount, 1);
    assertVictimUnchanged();

    await server.batch.task.reactivate(jobId, 'plant');
    const again = await waitFor(async () => {
      const task = await server.batch.task.get(jobId, 'plant');
      return task.state === 'completed' && task.executionInfo?.retryCount === 1 && task.executionInfo.exitCode === 1 ? task : undefined;
    }, { what: 'the reactivated task to complete' });
    assert.equal(again.executionInfo?.result, 'failure', JSON.stringify(again.executionInfo));
    const seen = (await taskFile(jobId, 'plant', 'wd/seen.log')).split('\n').filter(Boolean);
    // First run: the download; its retry: the link (no download on a retry); the reactivation: the download again, over the link.
    assert.deepEqual(seen.slice(0, 3), ['downloaded', 'link', 'downloaded'], seen.join(','));
    assert.ok(!seen.includes(SECRET.trim()), 'the task never read the victim through its link');
    assertVictimUnchanged();
  });

  test('certificates: a retry rewrites certs/ by replacing planted links, never through them', { skip: OPENSSL_MISSING }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-link-cert-'));
    try {
      const { thumbprint, cer } = makeTestCertificate(dir, 'lapis-links');
      await server.batch.certificate.add({ thumbprint, thumbprintAlgorithm: 'sha1', certificateFormat: 'cer', data: cer });
      const certPool = uniqueId('CertLinks');
      await addPoolAndWait(server.batch, certPool, { targetDedicatedNodes: 1, certificateReferences: [{ thumbprint, thumbprintAlgorithm: 'sha1' }] });
      const jobId = await newJob(certPool);
      const file = `$AZ_BATCH_CERTIFICATES_DIR/sha1-${thumbprint.toLowerCase()}.cer`;
      const script = `if [ -L ${file} ]; then echo link >> seen.log; elif [ -f ${file} ]; then echo file >> seen.log; fi; ln -sf ${victim} ${file}; exit 1`;
      await server.batch.task.add(jobId, { id: 'certs', commandLine: `/bin/sh -c "${script}"`, constraints: { maxTaskRetryCount: 1 } });
      const task = await waitForTaskState(server.batch, jobId, 'certs', 'completed');
      assert.equal(task.executionInfo?.retryCount, 1, JSON.stringify(task.executionInfo));
      assert.equal(task.executionInfo?.exitCode, 1, JSON.stringify(task.executionInfo));
      // The retry found a certificate file again: the agent replaced the link it had left.
      assert.deepEqual((await taskFile(jobId, 'certs', 'wd/seen.log')).split('\n').filter(Boolean), ['file', 'file']);
      assertVictimUnchanged();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('multi-instance: a coordination command that links stdout.txt and stderr.txt to a root-only file gets nothing written there', async () => {
    const jobId = await newJob();
    await server.batch.task.add(jobId, {
      id: 'mpi-stdout',
      commandLine: '/bin/sh -c "echo LEAKED-INTO-THE-VICTIM; echo LEAKED-INTO-THE-VICTIM >&2"',
      multiInstanceSettings: {
        numberOfInstances: 2,
        coordinationCommandLine: `/bin/sh -c "ln -sf ${victim} $AZ_BATCH_TASK_DIR/stdout.txt; ln -sf ${victim} $AZ_BATCH_TASK_DIR/stderr.txt"`,
      },
    });
    const task = await waitForTaskState(server.batch, jobId, 'mpi-stdout', 'completed');
    assert.equal(task.executionInfo?.result, 'failure', 'the application command cannot start with its output files replaced by links');
    assertVictimUnchanged();
  });

  test('multi-instance output files: links at fileuploadout.txt and fileuploaderr.txt are never appended to', async () => {
    const container = server.blob.getContainerClient(uniqueId('linkout').toLowerCase());
    await container.create();
    const sas = generateBlobSASQueryParameters(
      { containerName: container.containerName, permissions: ContainerSASPermissions.parse('w'), expiresOn: new Date(Date.now() + 3_600_000) },
      credential(),
    ).toString();
    const jobId = await newJob();
    await server.batch.task.add(jobId, {
      id: 'mpi-upload',
      commandLine: `/bin/sh -c "echo report > report.txt; ln -sf ${victim} $AZ_BATCH_TASK_DIR/fileuploadout.txt; ln -sf ${victim} $AZ_BATCH_TASK_DIR/fileuploaderr.txt"`,
      multiInstanceSettings: { numberOfInstances: 2, coordinationCommandLine: '/bin/true' },
      outputFiles: [{ filePattern: 'report.txt', destination: { container: { containerUrl: `${container.url}?${sas}` } }, uploadOptions: { uploadCondition: 'taskcompletion' } }],
    });
    const task = await waitForTaskState(server.batch, jobId, 'mpi-upload', 'completed');
    assert.equal(task.executionInfo?.exitCode, 0);
    assert.equal(task.executionInfo?.failureInfo?.code, 'FileUploadMiscError', JSON.stringify(task.executionInfo));
    assertVictimUnchanged();
  });

  test('file API race: a directory swapped for a link to a root-only directory never serves or deletes what is behind it', async () => {
    const jobId = await newJob();
    // d/ holds the task's own secret.txt; many times a second d becomes a link to the victim directory (which holds a secret.txt too) and back.
    const loop = [
      'end=$(( $(date +%s) + 120 ));',
      'while [ $(date +%s) -lt $end ]; do',
      'mkdir -p d 2>/dev/null; [ -e d/secret.txt ] || echo task > d/secret.txt 2>/dev/null;',
      'mv d d.real 2>/dev/null; ln -s ' + victimDirectory + ' d 2>/dev/null; sleep 0.01; rm -f d 2>/dev/null; mv d.real d 2>/dev/null; sleep 0.01;',
      'done',
    ].join(' ');
    await server.batch.task.add(jobId, { id: 'swapper', commandLine: `/bin/bash -c '${loop}'` });
    await waitFor(async () => ((await server.batch.task.get(jobId, 'swapper')).state === 'running' ? true : undefined), { what: 'the swapper to run' });
    const base = `/jobs/${jobId}/tasks/swapper/files/wd/`;
    await waitFor(async () => ((await signedRequest(server, 'GET', `${base}d/secret.txt`)).text === 'task\n' ? true : undefined), { what: 'the swapping to start' });

    const statuses = new Map<string, number>();
    const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
    for (let i = 0; i < 300; i++) {
      const get = await signedRequest(server, 'GET', `${base}d/secret.txt`);
      count(`GET ${get.status}`);
      assert.ok(!get.text.includes('ROOT-ONLY'), `GET served the root-only file (request ${i})`);
      const head = await signedRequest(server, 'HEAD', `${base}d/secret.txt`);
      count(`HEAD ${head.status}`);
      assert.notEqual(head.headers.get('content-length'), String(Buffer.byteLength(SECRET)), `HEAD described the root-only file (request ${i})`);
      const range = await signedRequest(server, 'GET', `${base}d/secret.txt`, { headers: { 'ocp-range': 'bytes=0-8' } });
      assert.ok(!range.text.includes('ROOT-ONLY'), `a ranged GET served the root-only file (request ${i})`);
      const list = await signedRequest(server, 'GET', `/jobs/${jobId}/tasks/swapper/files`, { query: RECURSIVE });
      assert.equal(list.status, 200, `a listing fails while the task swaps: ${list.text}`);
      assert.ok(!list.text.includes('ROOT-ONLY'));
      if (i % 3 === 0) count(`DELETE ${(await signedRequest(server, 'DELETE', `${base}d/secret.txt`)).status}`);
      if (i % 25 === 0) count(`DELETE -r ${(await signedRequest(server, 'DELETE', `${base}d`, { query: RECURSIVE })).status}`);
      if (i % 10 === 0) assertVictimUnchanged();
    }
    assertVictimUnchanged();
    assert.ok((statuses.get('GET 200') ?? 0) > 0, `the task's own file was served at times: ${JSON.stringify([...statuses])}`);
    await server.batch.task.terminate(jobId, 'swapper');
    await waitForTaskState(server.batch, jobId, 'swapper', 'completed');
    assertVictimUnchanged();
  });
});

describe("a pool user's home: root never follows a link its tasks leave there", { skip: NOT_ROOT }, () => {
  test('a restarted server places the ssh key again without writing, reading or chowning through planted links', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-ssh-'));
    const victimDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-victim-'));
    fs.chmodSync(victimDir, 0o700);
    const target = path.join(victimDir, 'secret.txt');
    fs.writeFileSync(target, SECRET, { mode: 0o600 });
    const userName = `lapis${randomBytes(4).toString('hex')}`;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const keysPool = uniqueId('Keys');
    const runAsUser = async (target: TestServer, id: string, commandLine: string) => {
      const jobId = uniqueId('Job');
      await target.batch.job.add({ id: jobId, poolInfo: { poolId: keysPool } });
      await target.batch.task.add(jobId, { id, commandLine, userIdentity: { userName } });
      return waitForTaskState(target.batch, jobId, id, 'completed');
    };
    const first = await startTestServer({ dataDir });
    try {
      await addPoolAndWait(first.batch, keysPool, { targetDedicatedNodes: 1, userAccounts: [{ name: userName, password: 'Secret-Pass-1', linuxUserConfiguration: { sshPrivateKey: privateKey } }] });
      const plant = await runAsUser(first, 'plant', `/bin/bash -c "cd /home/${userName}/.ssh && for f in id_rsa id_rsa.pub authorized_keys; do rm -f $f; ln -s ${target} $f; done"`);
      assert.equal(plant.executionInfo?.exitCode, 0, JSON.stringify(plant.executionInfo));
    } finally {
      await first.stop();
    }
    const second = await startTestServer({ dataDir });
    try {
      // The account exists: the restarted server reuses it and places the key again.
      const again = await runAsUser(second, 'again', '/bin/true');
      assert.equal(again.executionInfo?.result, 'success', JSON.stringify(again.executionInfo));
      const stats = fs.lstatSync(target);
      assert.equal(fs.readFileSync(target, 'utf8'), SECRET, 'the victim was not written');
      assert.equal(stats.mode & 0o7777, 0o600);
      assert.equal(stats.uid, 0, 'the victim was not chowned');
      const ssh = `/home/${userName}/.ssh`;
      for (const file of ['id_rsa', 'id_rsa.pub', 'authorized_keys']) {
        const entry = fs.lstatSync(path.join(ssh, file));
        assert.ok(entry.isFile(), `${file} is a file again, not the planted link`);
        assert.notEqual(entry.uid, 0, `${file} belongs to the user`);
      }
      assert.equal(fs.readFileSync(path.join(ssh, 'id_rsa'), 'utf8'), privateKey.endsWith('\n') ? privateKey : `${privateKey}\n`);
      assert.match(fs.readFileSync(path.join(ssh, 'authorized_keys'), 'utf8'), /^ssh-rsa /);
      await second.batch.pool.deleteMethod(keysPool);
      await waitFor(async () => ((await second.batch.pool.list()).some((pool) => pool.id === keysPool) ? undefined : true), { what: 'the pool to go' });
    } finally {
      await second.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(victimDir, { recursive: true, force: true });
    }
  });
});
