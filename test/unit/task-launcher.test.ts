// The task launcher with real processes: it starts a task process and
// reports its exit, maps a program that cannot start to its errno, records
// each run's exit before reporting it, kills on request (a stopped run leaves
// no record), survives the death of the server that started it and keeps
// recording, and a launcher that dies fails its runs instead of hanging them.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parsePidFile, type RunRecord } from '../../src/agent/launcher-protocol.js';
import { endLeftoverRuns, recordedOutcomes } from '../../src/agent/run-records.js';
import { TaskLauncher, type LaunchSpec } from '../../src/agent/task-launcher.js';
import { waitFor } from '../../src/testkit/test-server.js';
import { isAlive } from '../fixtures/reliability.js';

let root: string;
let launcher: TaskLauncher;
let runs = 0;

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-launcher-'));
  launcher = new TaskLauncher();
});

after(async () => {
  await launcher.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** A node root with its pid directory, and a launch spec for `program args` in it. */
function node(program: string, args: string[], record: Partial<RunRecord> = {}): { nodeRoot: string; pidDirectory: string; spec: LaunchSpec } {
  const nodeRoot = path.join(root, `node${runs++}`);
  const pidDirectory = path.join(nodeRoot, 'volatile', 'pids');
  fs.mkdirSync(pidDirectory, { recursive: true });
  const full: RunRecord = {
    run: { kind: 'task', account: 'a', poolId: 'p', nodeId: 'n', jobId: 'j', taskId: 't', attempt: 1 },
    startTime: '2026-01-01T00:00:00.0000000Z',
    recoverable: true,
    ...record,
  };
  const spec: LaunchSpec = {
    program,
    args,
    cwd: nodeRoot,
    env: { PATH: '/usr/bin:/bin' },
    stdout: path.join(nodeRoot, 'stdout.txt'),
    stderr: path.join(nodeRoot, 'stderr.txt'),
    pidDirectory,
    record: JSON.stringify(full),
  };
  return { nodeRoot, pidDirectory, spec };
}

test('a process runs with its output in files; its exit is recorded before it is reported, and forgotten on request', async () => {
  const { nodeRoot, pidDirectory, spec } = node('/bin/sh', ['-c', 'echo out; echo err >&2; exit 3']);
  const run = launcher.start(spec);
  const result = await run.result;
  assert.equal(result.kind, 'exited');
  assert.ok(result.kind === 'exited' && result.code === 3 && result.signal === null);
  assert.equal(fs.readFileSync(spec.stdout, 'utf8'), 'out\n');
  assert.equal(fs.readFileSync(spec.stderr, 'utf8'), 'err\n');
  assert.deepEqual(fs.readdirSync(pidDirectory), [String(run.pid)], 'one file a run: the record, and its exit appended');
  assert.ok(parsePidFile(fs.readFileSync(path.join(pidDirectory, String(run.pid)), 'utf8')).ended);
  const [report] = recordedOutcomes(nodeRoot);
  assert.equal(report?.outcome.exitCode, 3);
  assert.equal(report?.run.taskId, 't');
  launcher.forget(pidDirectory, run.pid ?? 0);
  await waitFor(() => (fs.readdirSync(pidDirectory).length === 0 ? true : undefined), { what: 'the records to be removed' });
});

test('a program that cannot be started fails with its errno and leaves no record', async () => {
  const { pidDirectory, spec } = node('/no/such/program', []);
  const result = await launcher.start(spec).result;
  assert.deepEqual(result.kind === 'failed' && [result.stage, result.code], ['spawn', 'ENOENT']);
  const unwritable = node('/bin/true', []);
  const opening = await launcher.start({ ...unwritable.spec, stdout: path.join(root, 'missing', 'stdout.txt') }).result;
  assert.deepEqual(opening.kind === 'failed' && opening.stage, 'open');
  assert.deepEqual(fs.readdirSync(pidDirectory), []);
});

test('a stopped run is killed with its process group and leaves no record; a timed-out one is recorded as such', async () => {
  const stopped = node('/bin/sh', ['-c', 'sleep 300 & echo $! > child; wait']);
  const run = launcher.start(stopped.spec);
  const child = await waitFor(() => {
    const text = fs.existsSync(path.join(stopped.nodeRoot, 'child')) ? fs.readFileSync(path.join(stopped.nodeRoot, 'child'), 'utf8').trim() : '';
    return text ? Number(text) : undefined;
  });
  launcher.kill(run, 'stopped');
  const result = await run.result;
  assert.ok(result.kind === 'exited' && result.signal === 'SIGKILL');
  await waitFor(() => (isAlive(child) ? undefined : true), { what: 'the whole process group to end' });
  await waitFor(() => (fs.readdirSync(stopped.pidDirectory).length === 0 ? true : undefined), { what: 'the pid file to go' });

  const timed = node('/bin/sleep', ['300']);
  const timedRun = launcher.start(timed.spec);
  await waitFor(() => timedRun.pid);
  launcher.kill(timedRun, 'timedOut');
  await timedRun.result;
  const [report] = recordedOutcomes(timed.nodeRoot);
  assert.equal(report?.outcome.exitCode, 137);
  assert.equal(report?.outcome.failureInfo?.code, 'TaskEnded');
});

test('the launcher outlives a server killed with -9 and records the exit of the run it started', async () => {
  const { nodeRoot, pidDirectory, spec } = node('/bin/sh', []);
  const gate = path.join(nodeRoot, 'gate');
  const parent = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '..', 'fixtures', 'launcher-parent.ts'), pidDirectory, spec.record ?? '', gate], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  parent.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const pid = await waitFor(() => (output.includes('\n') ? Number(output.trim()) : undefined), { what: 'the task to start' });
  const exited = new Promise((resolve) => parent.once('exit', resolve));
  parent.kill('SIGKILL');
  await exited;
  assert.ok(isAlive(pid), 'the task still runs after its server died');
  fs.writeFileSync(gate, '');
  await waitFor(() => (parsePidFile(fs.readFileSync(path.join(pidDirectory, String(pid)), 'utf8')).ended ? true : undefined), { what: 'the exit to be recorded' });
  const [report] = recordedOutcomes(nodeRoot);
  assert.equal(report?.outcome.exitCode, 7);
  assert.equal(report?.outcome.startTime, '2026-01-01T00:00:00.0000000Z');
});

test('when the launcher dies, its runs end as lost with their processes killed, and the next run gets a new launcher', async () => {
  const { spec } = node('/bin/sleep', ['300']);
  const run = launcher.start(spec);
  const pid = await waitFor(() => run.pid);
  const launcherPid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
  process.kill(launcherPid, 'SIGKILL');
  assert.equal((await run.result).kind, 'lost');
  await waitFor(() => (isAlive(pid) ? undefined : true), { what: 'the orphaned task to be killed' });
  const next = await launcher.start(node('/bin/true', []).spec).result;
  assert.ok(next.kind === 'exited' && next.code === 0);
});

test("a node an earlier Lapis left (its exits in <pid>.exit files) is read as such: the ended run completes from its record, its pid is never signalled", async () => {
  const { nodeRoot, pidDirectory, spec } = node('/bin/true', []);
  // A live process group stands for a process that took the ended run's pid since.
  const bystander = spawn('/bin/sleep', ['30'], { detached: true, stdio: 'ignore' });
  const pid = bystander.pid ?? 0;
  try {
    fs.writeFileSync(path.join(pidDirectory, String(pid)), spec.record ?? '');
    fs.writeFileSync(path.join(pidDirectory, `${pid}.exit`), JSON.stringify({ exitCode: 5, signal: null, timedOut: false, endTime: '2026-01-01T00:00:01.000Z' }));
    const [report] = recordedOutcomes(nodeRoot);
    assert.equal(report?.outcome.exitCode, 5);
    await endLeftoverRuns(nodeRoot);
    assert.deepEqual(fs.readdirSync(pidDirectory), [], 'both files removed');
    assert.ok(isAlive(pid), 'the pid of an ended run is left alone');
  } finally {
    bystander.kill('SIGKILL');
  }
});
