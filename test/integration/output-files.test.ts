// Output files through @azure/batch against a real Lapis: real processes,
// uploads to the embedded blob endpoint with container SAS URLs, as Batch's
// "Persist task data to Azure Storage with the Batch service API" describes.

import type { BatchServiceModels } from '@azure/batch';
import { ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEV_STORAGE } from '../../src/config/config.js';
import { addPoolAndWait, readStream, uniqueId, waitForTaskState } from '../../src/testkit/builders.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';

let server: TestServer;
let poolId: string;
before(async () => {
  server = await startTestServer();
  poolId = uniqueId('OutputPool');
  await addPoolAndWait(server.batch, poolId, { targetDedicatedNodes: 1, taskSlotsPerNode: 4 });
});
after(async () => {
  await server.stop();
});

async function newJob(): Promise<string> {
  const id = uniqueId('OutJob');
  await server.batch.job.add({ id, poolInfo: { poolId } });
  return id;
}

async function newContainer(): Promise<ContainerClient> {
  const container = server.blob.getContainerClient(uniqueId('out').toLowerCase());
  await container.create();
  return container;
}

function sasUrl(container: ContainerClient, permissions = 'w'): string {
  const sas = generateBlobSASQueryParameters(
    { containerName: container.containerName, permissions: ContainerSASPermissions.parse(permissions), expiresOn: new Date(Date.now() + 3_600_000) },
    new StorageSharedKeyCredential(DEV_STORAGE.accountName, DEV_STORAGE.accountKey),
  ).toString();
  return `${container.url}?${sas}`;
}

function output(
  filePattern: string,
  containerUrl: string,
  options: { path?: string; condition?: BatchServiceModels.OutputFileUploadCondition; headers?: BatchServiceModels.HttpHeader[] } = {},
): BatchServiceModels.OutputFile {
  return {
    filePattern,
    destination: { container: { containerUrl, path: options.path, uploadHeaders: options.headers } },
    uploadOptions: { uploadCondition: options.condition ?? 'taskcompletion' },
  };
}

async function blobNames(container: ContainerClient): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat()) names.push(blob.name);
  return names.sort();
}

async function blobText(container: ContainerClient, name: string): Promise<string> {
  return readStream((await container.getBlobClient(name).download()).readableStreamBody);
}

async function taskFile(jobId: string, taskId: string, name: string): Promise<string> {
  return readStream((await server.batch.file.getFromTask(jobId, taskId, name)).readableStreamBody);
}

describe('uploading output files', () => {
  test('nested files with **, a renamed single file and ../stdout.txt land where Batch puts them', async () => {
    const container = await newContainer();
    const url = sasUrl(container);
    const jobId = await newJob();
    await server.batch.task.add(jobId, {
      id: 'writer',
      commandLine:
        '/bin/sh -c "mkdir -p out/sub/deeper .hidden && echo A > out/a.txt && echo B > out/sub/b.txt && echo C > out/sub/deeper/c.txt && echo skip > out/skip.log && echo H > .hidden/h.txt && echo 1,2 > result.csv && echo to stdout"',
      outputFiles: [
        output('**/*.txt', url, { path: 'nested' }),
        output('result.csv', url, { path: 'renamed/final.csv' }),
        output('../stdout.txt', url, { path: 'logs/writer-stdout.txt' }),
        output('../std*.txt', url, { path: 'writer' }),
        output('out/sub/*.txt', url),
      ],
    });
    const task = await waitForTaskState(server.batch, jobId, 'writer', 'completed');
    assert.equal(task.executionInfo?.result, 'success', JSON.stringify(task.executionInfo?.failureInfo));
    assert.equal(task.executionInfo?.exitCode, 0);
    assert.deepEqual(await blobNames(container), [
      'logs/writer-stdout.txt',
      'nested/out/a.txt',
      'nested/out/sub/b.txt',
      'nested/out/sub/deeper/c.txt',
      'renamed/final.csv',
      'b.txt',
      'writer/stderr.txt',
      'writer/stdout.txt',
    ].sort());
    assert.equal(await blobText(container, 'nested/out/sub/deeper/c.txt'), 'C\n');
    assert.equal(await blobText(container, 'renamed/final.csv'), '1,2\n');
    assert.equal(await blobText(container, 'logs/writer-stdout.txt'), 'to stdout\n');
    assert.equal(await blobText(container, 'writer/stderr.txt'), '');

    const uploadLog = await taskFile(jobId, 'writer', 'fileuploadout.txt');
    assert.match(uploadLog, /original_pattern: \*\*\/\*\.txt/);
    assert.match(uploadLog, /Uploaded .*\/wd\/out\/a\.txt to /);
    assert.doesNotMatch(uploadLog, /sig=/, 'the SAS never reaches the log');
    assert.equal(await taskFile(jobId, 'writer', 'fileuploaderr.txt'), '');
  });

  test('uploadCondition: taskfailure uploads only for a failed task, tasksuccess only for a succeeded one', async () => {
    const container = await newContainer();
    const url = sasUrl(container);
    const jobId = await newJob();
    const outputs = (id: string) => [
      output('report.txt', url, { path: `${id}/on-failure.txt`, condition: 'taskfailure' }),
      output('report.txt', url, { path: `${id}/on-success.txt`, condition: 'tasksuccess' }),
      output('report.txt', url, { path: `${id}/always.txt`, condition: 'taskcompletion' }),
    ];
    await server.batch.task.add(jobId, { id: 'good', commandLine: '/bin/sh -c "echo fine > report.txt"', outputFiles: outputs('good') });
    await server.batch.task.add(jobId, { id: 'bad', commandLine: '/bin/sh -c "echo broken > report.txt; exit 3"', outputFiles: outputs('bad') });
    const good = await waitForTaskState(server.batch, jobId, 'good', 'completed');
    const bad = await waitForTaskState(server.batch, jobId, 'bad', 'completed');
    assert.equal(good.executionInfo?.result, 'success');
    assert.equal(bad.executionInfo?.exitCode, 3);
    assert.equal(bad.executionInfo?.failureInfo?.code, 'FailureExitCode', 'uploads that went well leave the exit code failure as it is');
    assert.deepEqual(await blobNames(container), ['bad/always.txt', 'bad/on-failure.txt', 'good/always.txt', 'good/on-success.txt']);
    assert.equal(await blobText(container, 'bad/on-failure.txt'), 'broken\n');
    assert.match(await taskFile(jobId, 'good', 'fileuploadout.txt'), /upload condition taskfailure not met/);
  });

  test('uploadHeaders are set on the blobs', async () => {
    const container = await newContainer();
    const jobId = await newJob();
    await server.batch.task.add(jobId, {
      id: 'headers',
      commandLine: '/bin/sh -c "echo a,b > table.csv"',
      outputFiles: [
        output('*.csv', sasUrl(container), {
          path: 'tables',
          headers: [
            { name: 'Content-Type', value: 'text/csv' },
            { name: 'Content-Encoding', value: 'identity' },
            { name: 'Content-Language', value: 'en-GB' },
            { name: 'Cache-Control', value: 'max-age=60' },
            { name: 'Content-Disposition', value: 'attachment; filename=table.csv' },
            { name: 'x-ms-meta-producer', value: 'lapis' },
          ],
        }),
      ],
    });
    const task = await waitForTaskState(server.batch, jobId, 'headers', 'completed');
    assert.equal(task.executionInfo?.result, 'success', JSON.stringify(task.executionInfo?.failureInfo));
    const properties = await container.getBlobClient('tables/table.csv').getProperties();
    assert.equal(properties.contentType, 'text/csv');
    assert.equal(properties.contentEncoding, 'identity');
    assert.equal(properties.contentLanguage, 'en-GB');
    assert.equal(properties.cacheControl, 'max-age=60');
    assert.equal(properties.contentDisposition, 'attachment; filename=table.csv');
    assert.deepEqual(properties.metadata, { producer: 'lapis' });
  });

  test('a symlink in wd to /etc/passwd is not uploaded', async () => {
    const container = await newContainer();
    const jobId = await newJob();
    await server.batch.task.add(jobId, {
      id: 'links',
      commandLine: '/bin/sh -c "ln -s /etc/passwd passwd.txt && ln -s /etc etc && echo mine > mine.txt"',
      outputFiles: [output('*.txt', sasUrl(container)), output('passwd.txt', sasUrl(container), { path: 'single' }), output('etc/passwd*', sasUrl(container))],
    });
    const task = await waitForTaskState(server.batch, jobId, 'links', 'completed');
    assert.equal(task.executionInfo?.result, 'success');
    assert.deepEqual(await blobNames(container), ['mine.txt']);
    assert.match(await taskFile(jobId, 'links', 'fileuploadout.txt'), /Not uploading .*passwd\.txt: it resolves to a path outside the task directory/);
  });
});

describe('upload failures', () => {
  test('a container URL without write permission fails the task with FileUploadAccessDenied; the exit code stays', async () => {
    const container = await newContainer();
    const jobId = await newJob();
    await server.batch.task.add(jobId, {
      id: 'readonly',
      commandLine: '/bin/sh -c "echo x > out.txt"',
      outputFiles: [output('out.txt', sasUrl(container, 'rl'))],
    });
    const task = await waitForTaskState(server.batch, jobId, 'readonly', 'completed');
    assert.equal(task.executionInfo?.exitCode, 0);
    assert.equal(task.executionInfo?.result, 'failure');
    assert.equal(task.executionInfo?.failureInfo?.category, 'usererror');
    assert.equal(task.executionInfo?.failureInfo?.code, 'FileUploadAccessDenied');
    assert.doesNotMatch(JSON.stringify(task.executionInfo?.failureInfo), /sig=(?!REDACTED)/);
    const errors = await taskFile(jobId, 'readonly', 'fileuploaderr.txt');
    const entry = JSON.parse(errors.trim().split('\n')[0] ?? '{}') as Record<string, unknown>;
    assert.equal(entry.pattern, 'out.txt');
    assert.match(String(entry.file), /\/wd\/out\.txt$/);
    assert.match(String(entry.code), /Authorization|Permission/);
    assert.doesNotMatch(errors, /sig=/);
    assert.deepEqual(await blobNames(container), []);
  });

  test('a missing container fails the task with FileUploadContainerNotFound, keeps exit code 4 and is not retried', async () => {
    const container = server.blob.getContainerClient(uniqueId('missing').toLowerCase());
    const jobId = await newJob();
    await server.batch.task.add(jobId, {
      id: 'nocontainer',
      commandLine: '/bin/sh -c "echo x > out.txt; exit 4"',
      outputFiles: [output('*.txt', sasUrl(container))],
      constraints: { maxTaskRetryCount: 2 },
    });
    const task = await waitForTaskState(server.batch, jobId, 'nocontainer', 'completed');
    assert.equal(task.executionInfo?.exitCode, 4);
    assert.equal(task.executionInfo?.retryCount, 0);
    assert.deepEqual(
      { category: task.executionInfo?.failureInfo?.category, code: task.executionInfo?.failureInfo?.code, message: task.executionInfo?.failureInfo?.message },
      {
        category: 'usererror',
        code: 'FileUploadContainerNotFound',
        message: 'One of the specified Azure container(s) was not found while attempting to upload an output file',
      },
    );
    const errors = await taskFile(jobId, 'nocontainer', 'fileuploaderr.txt');
    assert.match(errors, /"code":"ContainerNotFound"/);
    assert.match(errors, /"pattern":"\*\.txt"/);
  });

  test('a pattern that reaches outside the task directory fails with FileUploadMiscError', async () => {
    const container = await newContainer();
    const jobId = await newJob();
    await server.batch.task.add(jobId, {
      id: 'escape',
      commandLine: '/bin/true',
      outputFiles: [output('../../../*', sasUrl(container))],
    });
    const task = await waitForTaskState(server.batch, jobId, 'escape', 'completed');
    assert.equal(task.executionInfo?.exitCode, 0);
    assert.equal(task.executionInfo?.failureInfo?.code, 'FileUploadMiscError');
    assert.match(await taskFile(jobId, 'escape', 'fileuploaderr.txt'), /outside the task directory/);
    assert.deepEqual(await blobNames(container), []);
  });

  test('a task that could not start uploads nothing and writes no upload logs', async () => {
    const container = await newContainer();
    const jobId = await newJob();
    await server.batch.task.add(jobId, {
      id: 'nostart',
      commandLine: '/no/such/program',
      outputFiles: [output('../std*.txt', sasUrl(container))],
    });
    const task = await waitForTaskState(server.batch, jobId, 'nostart', 'completed');
    assert.equal(task.executionInfo?.failureInfo?.code, 'CommandProgramNotFound');
    await assert.rejects(server.batch.file.getFromTask(jobId, 'nostart', 'fileuploadout.txt'));
    assert.deepEqual(await blobNames(container), []);
  });
});
