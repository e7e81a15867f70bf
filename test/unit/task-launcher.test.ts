// The task launcher with real processes: it starts a task process and
// reports its exit, maps a program that cannot start to its errno, records
// each run's exit before reporting it, kills on request (a stopped run leaves
// no record), survives the death of the server that started it and keeps
// recording, and a launcher that dies fails its runs instead of hanging them.
// All of it with each of its two ways to start a process: its native spawner
// (clone3, native/spawn.c; built by `npm install` on Linux x86-64, so
// expected there) and Node's child_process; and what the task gets from
// either: its user and groups, its control group, no descriptor or signal
// disposition of the launcher's.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parsePidFile, type RunRecord } from '../../src/agent/launcher-protocol.js';
import { endLeftoverRuns, recordedOutcomes } from '../../src/agent/run-records.js';
import { TaskLauncher, type LaunchSpec } from '../../src/agent/task-launcher.js';
import { findCgroupRoot } from '../../src/agent/cgroups.js';
import { waitFor } from '../../src/testkit/test-server.js';
import { isAlive } from '../fixtures/reliability.js';

let root: string;
let launcher: TaskLauncher;
let runs = 0;

/** Where the native spawner is built by `npm install`: there, the launcher must use it. */
const NATIVE_EXPECTED = process.platform === 'linux' && process.arch === 'x64';
const isRoot = process.getuid?.() === 0;

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-launcher-'));
  fs.chmodSync(root, 0o755);
});

after(() => {
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

for (const nativeSpawn of [true, false]) {
  describe(nativeSpawn ? 'started by the native spawner' : "started through Node's child_process", () => {
    before(() => {
      launcher = new TaskLauncher({ nativeSpawn });
    });

    after(async () => {
      await launcher.close();
    });

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
      env: { ...process.env, LAPIS_NATIVE_SPAWN: nativeSpawn ? 'on' : 'off' },
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


    test('the launcher says how it starts processes', async () => {
      await launcher.start(node('/bin/true', []).spec).result;
      assert.equal(launcher.spawner, nativeSpawn && NATIVE_EXPECTED ? 'native' : 'node');
    });

    test('a task gets its user and supplementary groups, a PATH search, its three descriptors and default signal dispositions', { skip: !isRoot && 'needs root to start processes as another user' }, async () => {
      const asNobody = { uid: 65534, gid: 65534, groups: [65534, 100] };
      // Descriptors above stderr, checked by the shell's builtins alone: a pipeline or a glob would open some of its own.
      const ids = node('sh', ['-c', 'id -u; id -G; open=""; for fd in $(seq 3 1023); do [ -e /proc/$$/fd/$fd ] && open="$open $fd"; done; echo "open:$open"']);
      const result = await launcher.start({ ...ids.spec, ...asNobody }).result;
      assert.ok(result.kind === 'exited' && result.code === 0, JSON.stringify(result));
      const [uid, groups, descriptors] = fs.readFileSync(ids.spec.stdout, 'utf8').trim().split('\n');
      assert.equal(uid, '65534');
      assert.deepEqual(groups?.split(' ').sort(), ['100', '65534']);
      // Node's child_process passes on whatever its parent left open without close-on-exec (a test runner's pipe, here); the native spawner closes all but stdin, stdout and stderr.
      if (launcher.spawner === 'native') assert.equal(descriptors, 'open:', 'no descriptor above stderr');
      // The started process itself reads its mask and ignored set (a shell blocks signals of its own while it forks).
      const signals = node('grep', ['-E', '^Sig(Blk|Ign)', '/proc/self/status']);
      const read = await launcher.start({ ...signals.spec, ...asNobody }).result;
      assert.ok(read.kind === 'exited' && read.code === 0, JSON.stringify(read));
      assert.deepEqual(fs.readFileSync(signals.spec.stdout, 'utf8').trim().split('\n'), ['SigBlk:\t0000000000000000', 'SigIgn:\t0000000000000000'], "nothing blocked, nothing ignored: not even SIGPIPE, which the launcher's Node ignores");
    });

    test("a task of another user starts in a working directory below one only root may cross (a private data directory), as with Node's spawn", { skip: !isRoot && 'needs root to start processes as another user' }, async () => {
      const { nodeRoot, spec } = node('/bin/sh', ['-c', 'pwd; id -u']);
      const privateParent = path.join(nodeRoot, 'private');
      const workingDirectory = path.join(privateParent, 'wd');
      fs.mkdirSync(workingDirectory, { recursive: true });
      fs.chmodSync(privateParent, 0o700);
      fs.chownSync(workingDirectory, 65534, 65534);
      const result = await launcher.start({ ...spec, cwd: workingDirectory, uid: 65534, gid: 65534 }).result;
      assert.ok(result.kind === 'exited' && result.code === 0, JSON.stringify(result));
      assert.equal(fs.readFileSync(spec.stdout, 'utf8'), `${workingDirectory}\n65534\n`);
    });

    test('a run starts inside its control group, which a launcher with the native spawner never enters', { skip: !findCgroupRoot(root) && 'needs root and a writable cgroup v2 hierarchy' }, async () => {
      const cgroupRoot = findCgroupRoot(root) as string;
      const group = path.join(cgroupRoot, `test-${nativeSpawn}-${runs}`);
      const { spec } = node('/bin/sh', ['-c', 'grep "^0::" /proc/self/cgroup; grep "^0::" /proc/$PPID/cgroup']);
      const result = await launcher.start({ ...spec, cgroup: { path: group, home: path.join(cgroupRoot, 'launcher') } }).result;
      assert.ok(result.kind === 'exited' && result.code === 0, JSON.stringify(result));
      const [own, launcherGroup] = fs.readFileSync(spec.stdout, 'utf8').trim().split('\n');
      assert.ok(own?.endsWith(path.basename(group)), `the task's group: ${own}`);
      // Node's spawn has the launcher step into the run's group and out after the exec: a task may see it there for that moment.
      if (launcher.spawner === 'native') assert.ok(launcherGroup && !launcherGroup.endsWith(path.basename(group)), `the launcher's group: ${launcherGroup}`);
      await waitFor(() => (fs.existsSync(group) ? undefined : true), { what: 'the ended run\'s group to be removed' });
    });

    test('an argument with a NUL byte fails the start and runs nothing', async () => {
      const { nodeRoot, spec } = node('/bin/sh', ['-c', 'touch ran\0']);
      const result = await launcher.start(spec).result;
      assert.ok(result.kind === 'failed' && result.stage === 'spawn', JSON.stringify(result));
      assert.equal(fs.existsSync(path.join(nodeRoot, 'ran')), false);
    });
  });
}

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
