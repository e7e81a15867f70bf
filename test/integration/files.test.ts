// Task files through @azure/batch: reads with ocp-range, properties (HEAD),
// lists, deletes, output of a running task, and the confinement of every
// path to the node's directory (encoded traversal, task-made symlinks).

import type { BatchServiceModels } from '@azure/batch';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addPoolAndWait, batchError, httpError, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { signedRequest } from '../../src/testkit/signed-request.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testkit/test-server.js';

describe('task files', () => {
  let server: TestServer;
  let outside: string;
  const poolId = uniqueId('FilesPool');
  const jobId = uniqueId('FilesJob');
  const taskId = 'maker';

  async function read(task: string, file: string, range?: string): Promise<string> {
    const options = range ? { fileGetFromTaskOptions: { ocpRange: range } } : undefined;
    return readStream((await server.batch.file.getFromTask(jobId, task, file, options)).readableStreamBody);
  }

  /**
   * The SDK streams file reads and so never parses their error bodies (the
   * same against Azure): errors of GET are checked on the wire.
   */
  async function assertReadFails(task: string, file: string, status: number, code: string, range?: string): Promise<void> {
    const headers: Record<string, string> = range ? { 'ocp-range': range } : {};
    const response = await signedRequest(server, 'GET', `/jobs/${jobId}/tasks/${task}/files/${file}`, { headers });
    assert.equal(response.status, status, `${file}: ${response.text}`);
    assert.equal(response.body.code, code, `${file}: ${response.text}`);
  }

  before(async () => {
    server = await startTestServer();
    // A secret outside every node directory, which a task links to.
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-outside-'));
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'must never be served');
    fs.chmodSync(outside, 0o755);
    fs.chmodSync(path.join(outside, 'secret.txt'), 0o644);
    await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, taskSlotsPerNode: 2 });
    await server.batch.job.add({ id: jobId, poolInfo: { poolId } });
    const script = [
      'mkdir -p sub/deep',
      'printf hello-world > sub/deep/a.txt',
      'printf 0123456789 > digits.txt',
      'chmod 640 digits.txt',
      `ln -s ${outside}/secret.txt leak`,
      `ln -s ${outside} outdir`,
      'ln -s ../../../../../../../.. up',
      'echo made',
    ].join(' && ');
    await server.batch.task.add(jobId, { id: taskId, commandLine: `/bin/bash -c "${script}"` });
    const task = await waitForTaskState(server.batch, jobId, taskId, 'completed');
    assert.equal(task.executionInfo?.result, 'success', JSON.stringify(task.executionInfo));
  });

  after(async () => {
    await server?.stop();
    fs.rmSync(outside, { recursive: true, force: true });
  });

  test('getFromTask reads a whole file, and a byte range with ocp-range', async () => {
    assert.equal(await read(taskId, 'stdout.txt'), 'made\n');
    assert.equal(await read(taskId, 'wd/digits.txt'), '0123456789');
    assert.equal(await read(taskId, 'wd/digits.txt', 'bytes=2-5'), '2345');
    assert.equal(await read(taskId, 'wd/digits.txt', 'bytes=7-'), '789');
    assert.equal(await read(taskId, 'wd/digits.txt', 'bytes=8-100'), '89');
    const ranged = await server.batch.file.getFromTask(jobId, taskId, 'wd/digits.txt', { fileGetFromTaskOptions: { ocpRange: 'bytes=0-3' } });
    assert.equal(ranged._response.status, 200, 'Batch answers 200, not 206, for a range');
    assert.equal(ranged.contentLength, 4);
  });

  test('an unreadable ocp-range is refused; one past the end is InvalidRange', async () => {
    await assertReadFails(taskId, 'wd/digits.txt', 400, 'InvalidHeaderValue', 'lines=1-2');
    await assertReadFails(taskId, 'wd/digits.txt', 400, 'InvalidHeaderValue', 'bytes=5-2');
    await assertReadFails(taskId, 'wd/digits.txt', 416, 'InvalidRange', 'bytes=50-60');
    await assert.rejects(read(taskId, 'wd/digits.txt', 'bytes=50-60'), httpError(416), 'the SDK sees the status');
  });

  test('getPropertiesFromTask answers with Batch\'s file headers', async () => {
    const file = await server.batch.file.getPropertiesFromTask(jobId, taskId, 'wd/digits.txt');
    assert.equal(file.contentLength, 10);
    assert.equal(file.ocpBatchFileIsdirectory, false);
    assert.equal(file.ocpBatchFileMode, '0100640');
    assert.ok(file.ocpCreationTime instanceof Date && !Number.isNaN(file.ocpCreationTime.getTime()));
    assert.ok(file.lastModified instanceof Date && Math.abs(file.lastModified.getTime() - Date.now()) < 5 * 60_000);
    assert.equal(file.ocpBatchFileUrl, `${server.lapis.batchUrl}/jobs/${jobId}/tasks/${taskId}/files/wd/digits.txt`);

    const directory = await server.batch.file.getPropertiesFromTask(jobId, taskId, 'wd/sub');
    assert.equal(directory.ocpBatchFileIsdirectory, true);
  });

  test('If-Modified-Since on a file answers 304 when it has not changed', async () => {
    const since = new Date(Date.now() + 60_000).toUTCString();
    const response = await signedRequest(server, 'HEAD', `/jobs/${jobId}/tasks/${taskId}/files/wd/digits.txt`, { headers: { 'If-Modified-Since': since } });
    assert.equal(response.status, 304);
  });

  test('listFromTask lists the task directory, recursively on request, filtered by prefix', async () => {
    const top = (await server.batch.file.listFromTask(jobId, taskId)).map((file) => file.name);
    assert.ok(top.includes('stdout.txt') && top.includes('stderr.txt') && top.includes('wd'), top.join(','));
    assert.ok(!top.includes('wd/digits.txt'), 'not recursive by default');

    const all = await server.batch.file.listFromTask(jobId, taskId, { recursive: true });
    const byName = new Map(all.map((file) => [file.name, file]));
    const deep = byName.get('wd/sub/deep/a.txt');
    assert.ok(deep, [...byName.keys()].join(','));
    assert.equal(deep.isDirectory, false);
    assert.equal(deep.properties?.contentLength, 11);
    assert.equal(deep.url, `${server.lapis.batchUrl}/jobs/${jobId}/tasks/${taskId}/files/wd/sub/deep/a.txt`);
    assert.equal(byName.get('wd/sub')?.isDirectory, true);
    assert.ok(!byName.has('wd/outdir/secret.txt'), 'a symlinked directory is listed, never walked');

    const filtered = await server.batch.file.listFromTask(jobId, taskId, { recursive: true, fileListFromTaskOptions: { filter: "startswith(name,'wd/sub')" } });
    assert.deepEqual(filtered.map((file) => file.name).sort(), ['wd/sub', 'wd/sub/deep', 'wd/sub/deep/a.txt']);
  });

  test('listFromTask pages with maxresults and odata.nextLink', async () => {
    const first = await server.batch.file.listFromTask(jobId, taskId, { recursive: true, fileListFromTaskOptions: { maxResults: 2 } });
    assert.equal(first.length, 2);
    assert.ok(first.odatanextLink);
    const names = first.map((file) => file.name);
    let link: string | undefined = first.odatanextLink;
    while (link) {
      const page: BatchServiceModels.FileListFromTaskResponse = await server.batch.file.listFromTaskNext(link);
      names.push(...page.map((file) => file.name));
      link = page.odatanextLink;
    }
    const all = (await server.batch.file.listFromTask(jobId, taskId, { recursive: true })).map((file) => file.name);
    assert.deepEqual(names, all);
  });

  test('missing files, tasks and jobs are not found', async () => {
    await assertReadFails(taskId, 'wd/nothing-here.txt', 404, 'FileNotFound');
    await assert.rejects(server.batch.file.getPropertiesFromTask(jobId, taskId, 'wd/nothing-here.txt'), httpError(404));
    await assertReadFails('no-such-task', 'stdout.txt', 404, 'TaskNotFound');
    await assert.rejects(server.batch.file.listFromTask(jobId, 'no-such-task'), batchError('TaskNotFound', 404));
    await assert.rejects(server.batch.file.listFromTask(uniqueId('NoJob'), taskId), batchError('JobNotFound', 404));
    await assert.rejects(server.batch.file.deleteFromTask(jobId, taskId, 'wd/nothing-here.txt'), batchError('FileNotFound', 404));
  });

  test('paths never leave the node directory: dot segments, encoded and double-encoded, absolute', async () => {
    const base = `/jobs/${jobId}/tasks/${taskId}/files/`;
    const attempts = [
      '../../../../../../../../etc/passwd',
      '%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd',
      '%252e%252e%252f%252e%252e%252f%252e%252e%252fetc%252fpasswd',
      '%2fetc%2fpasswd',
      'wd/..%5c..%5c..%5cetc%5cpasswd',
      'wd/%00../../etc/passwd',
    ];
    for (const attempt of attempts) {
      for (const method of ['GET', 'HEAD'] as const) {
        const response = await signedRequest(server, method, base + attempt);
        assert.ok(response.status === 404 || response.status === 400, `${method} ${attempt}: ${response.status} ${response.text}`);
        assert.ok(!response.text.includes('root:'), `${method} ${attempt} leaked /etc/passwd`);
      }
      const list = await signedRequest(server, 'DELETE', base + attempt);
      assert.ok(list.status === 404 || list.status === 400, `DELETE ${attempt}: ${list.status}`);
    }
    assert.ok(fs.existsSync('/etc/passwd'));
  });

  test('symlinks a task made that point outside are never followed', async () => {
    for (const file of ['wd/leak', 'wd/outdir/secret.txt', 'wd/up/etc/passwd', `wd/up${outside}/secret.txt`]) {
      await assertReadFails(taskId, file, 404, 'FileNotFound');
      await assert.rejects(server.batch.file.getPropertiesFromTask(jobId, taskId, file), httpError(404), file);
    }
    // Deleting the link removes the link, never what it points to.
    await server.batch.file.deleteFromTask(jobId, taskId, 'wd/leak');
    await server.batch.file.deleteFromTask(jobId, taskId, 'wd/outdir', { recursive: true });
    assert.equal(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8'), 'must never be served');
    const names = (await server.batch.file.listFromTask(jobId, taskId, { recursive: true })).map((file) => file.name);
    assert.ok(!names.includes('wd/leak') && !names.includes('wd/outdir'));
  });

  test('deleteFromTask removes a file; a non-empty directory needs recursive', async () => {
    const victim = 'victim';
    await server.batch.task.add(jobId, { id: victim, commandLine: '/bin/bash -c "mkdir -p d/e && echo x > d/e/f && echo y > g"' });
    await waitForTaskState(server.batch, jobId, victim, 'completed');
    await server.batch.file.deleteFromTask(jobId, victim, 'wd/g');
    await assertReadFails(victim, 'wd/g', 404, 'FileNotFound');
    await assert.rejects(server.batch.file.deleteFromTask(jobId, victim, 'wd/d'), batchError('OperationInvalidForCurrentState', 409));
    assert.equal(await read(victim, 'wd/d/e/f'), 'x\n', 'a refused delete removes nothing');
    await server.batch.file.deleteFromTask(jobId, victim, 'wd/d', { recursive: true });
    const names = (await server.batch.file.listFromTask(jobId, victim, { recursive: true })).map((file) => file.name);
    assert.ok(!names.some((name) => name?.startsWith('wd/d')), names.join(','));
  });

  test('a running task\'s stdout is readable while it grows, from any offset', async () => {
    const runner = 'runner';
    await server.batch.task.add(jobId, {
      id: runner,
      commandLine: `/bin/bash -c 'i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.02; done'`,
      constraints: { maxWallClockTime: 'PT1M' },
    });
    await waitForTaskState(server.batch, jobId, runner, 'running');
    const early = await waitFor(async () => {
      const text = await read(runner, 'stdout.txt');
      return text.includes('line-2\n') ? text : undefined;
    });
    const later = await waitFor(async () => {
      const text = await read(runner, 'stdout.txt');
      return text.length > early.length + 20 ? text : undefined;
    });
    assert.ok(later.startsWith(early), 'output only grows');
    const tail = await read(runner, 'stdout.txt', `bytes=${early.length}-`);
    assert.ok(tail.startsWith(later.slice(early.length)), 'a range from the old end reads what was added');
    assert.equal((await server.batch.task.get(jobId, runner)).state, 'running');
    await server.batch.task.deleteMethod(jobId, runner);
  });

  test('files of a task that has not run yet answer 409', async () => {
    const idlePool = uniqueId('EmptyPool');
    const waitingJob = uniqueId('WaitingJob');
    await addPoolAndWait(server.batch, idlePool, { targetDedicatedNodes: 0 });
    await server.batch.job.add({ id: waitingJob, poolInfo: { poolId: idlePool } });
    await server.batch.task.add(waitingJob, { id: 'waiting', commandLine: '/bin/true' });
    const conflict = batchError('OperationInvalidForCurrentState', 409);
    await assert.rejects(server.batch.file.listFromTask(waitingJob, 'waiting'), conflict);
    await assert.rejects(server.batch.file.deleteFromTask(waitingJob, 'waiting', 'stdout.txt'), conflict);
    await assert.rejects(server.batch.file.getPropertiesFromTask(waitingJob, 'waiting', 'stdout.txt'), httpError(409));
    const response = await signedRequest(server, 'GET', `/jobs/${waitingJob}/tasks/waiting/files/stdout.txt`);
    assert.equal(response.status, 409);
    assert.equal(response.body.code, 'OperationInvalidForCurrentState');
  });
});
