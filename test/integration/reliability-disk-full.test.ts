// Issue 6, fault 3: the disk fills or a write fails. A task fails with a
// failureInfo, or the API answers Batch's server error (500 InternalError);
// nothing already stored is corrupted; the server keeps serving.
//
// The full disk is a small tmpfs mounted on the node directories (task
// output) or on the whole data directory (the store), then filled. Mounting
// needs root: the tests skip with the reason elsewhere. `lapis serve` runs as
// a child process, so a crash is seen as a crash.

import type { BatchServiceClient } from '@azure/batch';
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { poolSpec, readStream, waitForPoolSteady, waitForTaskState } from '../../src/testkit/builders.js';
import { waitFor } from '../../src/testkit/test-server.js';
import { fillDisk, mountTmpfs, rawRequest, reportFigures, serveLapis, tmpfsUnavailable, unmount, type ServedLapis } from '../fixtures/reliability.js';

const skip = tmpfsUnavailable();

async function stdoutOf(batch: BatchServiceClient, jobId: string, taskId: string): Promise<string> {
  return readStream((await batch.file.getFromTask(jobId, taskId, 'stdout.txt')).readableStreamBody);
}

/** Pid files the local agents keep for running tasks (`<node>/volatile/pids/<pid>`). */
function pidFiles(nodesDir: string): number {
  let count = 0;
  for (const node of fs.readdirSync(nodesDir)) {
    const directory = path.join(nodesDir, node, 'volatile', 'pids');
    if (fs.existsSync(directory)) count += fs.readdirSync(directory).length;
  }
  return count;
}

function alive(server: ServedLapis): boolean {
  return server.child.exitCode === null && server.child.signalCode === null;
}

/** A data dir whose `nodes/` (every node's task directories) is a 1 MiB tmpfs. */
async function withFullNodeDisk(work: (server: ServedLapis, nodesDir: string) => Promise<void>): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-rel-nodedisk-'));
  const nodesDir = path.join(dataDir, 'nodes');
  mountTmpfs(nodesDir, '1m');
  let server: ServedLapis | undefined;
  try {
    server = await serveLapis(dataDir);
    await server.batch.pool.add(poolSpec('DiskPool', { targetDedicatedNodes: 1 }));
    await waitForPoolSteady(server.batch, 'DiskPool');
    await server.batch.job.add({ id: 'DiskJob', poolInfo: { poolId: 'DiskPool' } });
    await work(server, nodesDir);
  } finally {
    await server?.kill9();
    unmount(nodesDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

test('a task whose output fills the node disk fails with a failureInfo, earlier output is intact, and the node works again once space is freed', { skip, timeout: 120_000 }, async (t) => {
  await withFullNodeDisk(async (server) => {
    const { batch } = server;
    await batch.task.add('DiskJob', { id: 'Before', commandLine: '/bin/echo written before the disk filled' });
    await waitForTaskState(batch, 'DiskJob', 'Before', 'completed');

    // 2 MiB of stdout into a 1 MiB disk; the sleep lets the agent's own bookkeeping land first.
    await batch.task.add('DiskJob', { id: 'Overflow', commandLine: "/bin/sh -c 'sleep 0.5; head -c 2097152 /dev/zero'" });
    const overflow = await waitForTaskState(batch, 'DiskJob', 'Overflow', 'completed', 20_000);
    assert.ok(alive(server), `lapis serve is still running: ${server.stderr()}`);
    assert.equal(overflow.executionInfo?.result, 'failure');
    assert.notEqual(overflow.executionInfo?.exitCode, 0);
    assert.ok(overflow.executionInfo?.failureInfo?.code, 'the failed task carries a failureInfo');

    // The server keeps serving, and what was stored before is intact.
    assert.equal(await stdoutOf(batch, 'DiskJob', 'Before'), 'written before the disk filled\n');
    assert.equal((await batch.task.get('DiskJob', 'Before')).executionInfo?.exitCode, 0);
    assert.equal((await batch.pool.get('DiskPool')).state, 'active');

    // Freeing the space (deleting the overflowing output through the API) makes the node usable again.
    await batch.file.deleteFromTask('DiskJob', 'Overflow', 'stdout.txt');
    await batch.task.add('DiskJob', { id: 'AfterFree', commandLine: '/bin/echo space is back' });
    const after = await waitForTaskState(batch, 'DiskJob', 'AfterFree', 'completed', 20_000);
    assert.equal(after.executionInfo?.exitCode, 0);
    assert.equal(await stdoutOf(batch, 'DiskJob', 'AfterFree'), 'space is back\n');
    reportFigures(t, 'disk-full-task-output', {
      overflowExitCode: overflow.executionInfo?.exitCode,
      overflowFailureInfo: overflow.executionInfo?.failureInfo?.code,
      serverAlive: alive(server),
      earlierOutputIntact: true,
    });
  });
});

test(
  'a task started while the node disk is already full fails with a clear failureInfo and lapis serve keeps running',
  {
    skip,
    timeout: 120_000,
  },
  async (t) => {
    await withFullNodeDisk(async (server, nodesDir) => {
      const { batch } = server;
      await batch.task.add('DiskJob', { id: 'Before', commandLine: '/bin/echo before' });
      await waitForTaskState(batch, 'DiskJob', 'Before', 'completed');
      // The agent removes a finished task's pid file after it ends; filling before that would leave its page free.
      await waitFor(() => (pidFiles(nodesDir) === 0 ? true : undefined), { what: 'the finished task\'s pid file to be removed' });
      const filler = fillDisk(nodesDir);
      await batch.task.add('DiskJob', { id: 'WhileFull', commandLine: "/bin/sh -c 'sleep 1; echo while full'" });
      let crashed = false;
      try {
        // Raw requests: the SDK would retry a refused connection for tens of seconds.
        const task = await waitFor(
          async () => {
            if (!alive(server)) return 'crashed' as const;
            const current = await rawRequest(server.batchUrl, 'GET', '/jobs/DiskJob/tasks/WhileFull');
            return current.body.state === 'completed' ? (current.body as { executionInfo?: { result?: string; failureInfo?: { code?: string; message?: string } } }) : undefined;
          },
          { timeoutMs: 20_000, intervalMs: 50, what: 'the task started on a full disk to complete' },
        );
        crashed = task === 'crashed';
        if (task === 'crashed') {
          assert.fail(`lapis serve exited (${JSON.stringify(await server.exited)}): ${server.stderr().trim().split('\n').slice(0, 4).join(' | ')}`);
        }
        assert.equal(task.executionInfo?.result, 'failure');
        assert.ok(task.executionInfo?.failureInfo?.message, 'the failureInfo says what went wrong');
        assert.equal(await stdoutOf(batch, 'DiskJob', 'Before'), 'before\n');
      } finally {
        fs.rmSync(filler, { force: true });
        reportFigures(t, 'disk-full-task-start', { serverCrashed: crashed || !alive(server) });
      }
    });
  },
);

/** A data dir that is itself a tmpfs of `size`, so the store (SQLite) shares the full disk. */
/** Runs `work` against a server on a small data disk; `serve` starts another on it (a restart), ended with the first even if `work` fails. */
async function withSmallDataDisk(size: string, work: (server: ServedLapis, dataDir: string, serve: () => Promise<ServedLapis>) => Promise<void>): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-rel-storedisk-'));
  mountTmpfs(dataDir, size);
  const servers: ServedLapis[] = [];
  try {
    const server = await serveLapis(dataDir);
    servers.push(server);
    await work(server, dataDir, async () => {
      const next = await serveLapis(dataDir);
      servers.push(next);
      return next;
    });
  } finally {
    for (const server of servers) await server.kill9();
    unmount(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

test('when the store cannot write (disk full) the API answers 500 InternalError, reads keep working, nothing stored is corrupted, and writes resume once space is back', { skip, timeout: 120_000 }, async (t) => {
  await withSmallDataDisk('48m', async (server, dataDir, serve) => {
    const { batch } = server;
    await batch.pool.add(poolSpec('StorePool', { targetDedicatedNodes: 1 }));
    await waitForPoolSteady(batch, 'StorePool');
    await batch.job.add({ id: 'StoreJob', poolInfo: { poolId: 'StorePool' } });
    await batch.task.add('StoreJob', { id: 'Kept', commandLine: '/bin/echo kept' });
    const kept = await waitForTaskState(batch, 'StoreJob', 'Kept', 'completed');

    const filler = fillDisk(dataDir);
    const statuses: number[] = [];
    const unexpected: string[] = [];
    const check = (what: string, response: Awaited<ReturnType<typeof rawRequest>>, ok: number) => {
      statuses.push(response.status);
      const serverError = response.status === 500 && response.body.code === 'InternalError';
      if (response.status !== ok && !serverError) unexpected.push(`${what}: ${response.status} ${response.text.slice(0, 200)}`);
      return serverError;
    };
    // A write too large for the room SQLite's WAL already has: the store must grow, and cannot.
    const value = Array.from({ length: 100 }, (_, index) => ({ id: `big-${index}`, commandLine: `/bin/echo ${'x'.repeat(8000)}` }));
    const big = await rawRequest(server.batchUrl, 'POST', '/jobs/StoreJob/addtaskcollection', { body: { value } });
    const bigFailed = check('addCollection', big, 200);
    const addJob = await rawRequest(server.batchUrl, 'POST', '/jobs', { body: { id: 'WhileFullJob', poolInfo: { poolId: 'StorePool' } } });
    check('add job', addJob, 201);
    const readTask = await rawRequest(server.batchUrl, 'GET', '/jobs/StoreJob/tasks/Kept');
    const readList = await rawRequest(server.batchUrl, 'GET', '/jobs/StoreJob/tasks');
    const readPool = await rawRequest(server.batchUrl, 'GET', '/pools/StorePool');
    assert.ok(alive(server), `lapis serve is still running: ${server.stderr()}`);
    assert.deepEqual(unexpected, [], 'writes on a full disk answer success or Batch\'s 500 InternalError, nothing else');
    assert.ok(bigFailed, `the write that needed new space answered 500 InternalError (got ${big.status})`);
    assert.deepEqual([readTask.status, readList.status, readPool.status], [200, 200, 200], 'reads keep working on a full disk');
    assert.equal(readTask.body.eTag, kept.eTag);

    fs.rmSync(filler);
    const retried = await rawRequest(server.batchUrl, 'POST', '/jobs/StoreJob/addtaskcollection', { body: { value } });
    assert.equal(retried.status, 200, 'the same write succeeds once space is back');
    const results = (retried.body.value ?? []) as { status: string; error?: { code?: string } }[];
    assert.ok(results.every((result) => result.status === 'success'), `after a failed write nothing of it was stored: ${JSON.stringify(results.filter((r) => r.status !== 'success').slice(0, 3))}`);

    // Nothing stored is corrupted: the database checks clean and everything acknowledged survives a kill -9.
    await server.kill9();
    const db = new Database(path.join(dataDir, 'lapis.db'), { readonly: true });
    const integrity = db.pragma('integrity_check', { simple: true });
    db.close();
    assert.equal(integrity, 'ok');
    const restarted = await serve();
    const tasks = await restarted.batch.task.list('StoreJob', { taskListOptions: { maxResults: 1000 } });
    assert.equal(tasks.length, 101);
    const keptAfter = await restarted.batch.task.get('StoreJob', 'Kept');
    assert.equal(keptAfter.eTag, kept.eTag);
    assert.equal(await stdoutOf(restarted.batch, 'StoreJob', 'Kept'), 'kept\n');
    reportFigures(t, 'disk-full-store', {
      writesWhileFull: statuses.length,
      answers: statuses,
      readsWhileFull: [readTask.status, readList.status, readPool.status],
      integrityCheck: integrity,
      serverAlive: true,
    });
  });
});

test(
  'a task that ends while the store cannot write does not bring lapis serve down, and its outcome is recorded once space is back',
  {
    skip,
    timeout: 60_000,
  },
  async (t) => {
    await withSmallDataDisk('48m', async (server, dataDir) => {
      const { batch } = server;
      await batch.pool.add(poolSpec('EndPool', { targetDedicatedNodes: 1 }));
      await waitForPoolSteady(batch, 'EndPool');
      await batch.job.add({ id: 'EndJob', poolInfo: { poolId: 'EndPool' } });
      // Recording the outcome rewrites the task's row; large environment settings make that need new store pages.
      const environmentSettings = Array.from({ length: 20 }, (_, index) => ({ name: `PAD${index}`, value: 'x'.repeat(20_000) }));
      // It writes nothing itself: its node directory is on the same full disk, and this is about the store.
      await batch.task.add('EndJob', { id: 'EndsWhileFull', commandLine: '/bin/sleep 2', environmentSettings });
      await waitForTaskState(batch, 'EndJob', 'EndsWhileFull', 'running');
      const filler = fillDisk(dataDir);
      let crashed = false;
      const figures: Record<string, unknown> = {};
      try {
        // The task ends about two seconds after it started; give the server time to record it or fall over.
        const ended = Date.now() + 4_000;
        await waitFor(() => (!alive(server) || Date.now() > ended ? true : undefined), { intervalMs: 100 });
        crashed = !alive(server);
        // The message awaits the exit, so it is built only once the server has exited.
        if (crashed) assert.fail(`lapis serve exited (${JSON.stringify(await server.exited)}): ${server.stderr().trim().split('\n').slice(0, 6).join(' | ')}`);
        // The fault took: the outcome could not be stored, and reads still answer.
        const whileFull = await rawRequest(server.batchUrl, 'GET', '/jobs/EndJob/tasks/EndsWhileFull');
        figures.stateWhileFull = whileFull.body.state;
        assert.equal(whileFull.status, 200);
        assert.equal(whileFull.body.state, 'running', 'the ended task could not be recorded while the store was full');

        fs.rmSync(filler);
        const freed = performance.now();
        const task = await waitForTaskState(batch, 'EndJob', 'EndsWhileFull', 'completed', 20_000);
        figures.recordedAfterFreeMs = Math.round(performance.now() - freed);
        assert.equal(task.executionInfo?.exitCode, 0);
        assert.equal(task.executionInfo?.result, 'success');

        // Stopping is clean: no pending retry or open transaction keeps the process from exiting on SIGTERM.
        await server.stop();
        const exit = await server.exited;
        figures.stopExit = exit;
        assert.deepEqual(exit, { code: 0, signal: null }, `lapis serve stopped on SIGTERM by itself: ${server.stderr().trim().slice(0, 500)}`);
      } finally {
        fs.rmSync(filler, { force: true });
        reportFigures(t, 'disk-full-store-task-end', { serverCrashed: crashed, ...figures });
      }
    });
  },
);
