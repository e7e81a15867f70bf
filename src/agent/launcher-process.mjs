// The task launcher: a small long-lived process that starts task processes
// for the node agents of one server, and records how each one ended.
//
// Why a separate process: starting a process forks its parent, and forking
// the ~200 MiB server costs its one JavaScript thread milliseconds a task;
// forking this small process is cheap and happens on another core. And it
// outlives the server: after a kill -9 of the server it keeps waiting for its
// children and writes each one's exit status to disk, so the restarted
// server completes those runs instead of running them again.
//
// Plain JavaScript with only node: imports, started with `node` alone (no
// TypeScript loader), so it stays small. It speaks to the agent over the
// IPC channel; the messages and the files are typed in launcher-protocol.ts,
// the agent's side is task-launcher.ts.
//
// Not its job: deciding anything about a task. It starts, kills on request,
// reports, records, and forgets.
//
// How it starts a process: through its native spawner (native/spawn.c: clone3
// sharing this process's memory until exec, born in the run's control group)
// where that module is built and the kernel allows it, else through Node's
// child_process (fork, the launcher stepping into the run's group and back).
// `--no-native-spawn` (LAPIS_NATIVE_SPAWN=off for the agent) asks for the
// second; the first message tells the agent which one is in use.

import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import path from 'node:path';
import { getSystemErrorName } from 'node:util';
import { openAppendAllNoFollow } from './no-follow-open.mjs';

/** Sets a user's supplementary groups where Node's spawn cannot (it sets only a uid and a gid). */
const SETPRIV = '/usr/bin/setpriv';
const nativeSpawner = process.argv.includes('--no-native-spawn') ? undefined : loadNativeSpawner();
/** Runs started by the native spawner, by pid: their exits come from its reap(), on SIGCHLD. */
const nativeRuns = new Map();
/** Holds the process open while native runs are alive (a signal listener does not): their exits must still be recorded. */
let nativeKeepAlive;

/** Runs by the id the agent gave them: { pid, pidFile, recorded, killedFor, cgroup, keepProcesses }, pid undefined until started. */
const runs = new Map();

// When the server is gone (exit or kill -9) the channel closes; the children
// keep the process alive, their exits are still recorded, and the process
// ends by itself once the last one has been.
process.on('message', (message) => {
  if (message.op === 'start') start(message);
  else if (message.op === 'kill') kill(message);
  else if (message.op === 'forget') forget(message);
});

if (nativeSpawner) process.on('SIGCHLD', reapNativeRuns);
send({ type: 'ready', spawner: nativeSpawner ? 'native' : 'node' });

/** The native spawner beside this file (the agent's bundle directory) or where it is built in the sources; undefined when missing or unusable. */
function loadNativeSpawner() {
  if (process.platform !== 'linux') return undefined;
  const here = path.dirname(new URL(import.meta.url).pathname);
  for (const candidate of [path.join(here, 'lapis_spawn.node'), path.join(here, 'native', 'build', 'Release', 'lapis_spawn.node')]) {
    if (!existsSync(candidate)) continue;
    try {
      const spawner = createRequire(import.meta.url)(candidate);
      return spawner.available() ? spawner : undefined;
    } catch {
      // Built for another Node or C library: Node's spawn serves.
      return undefined;
    }
  }
  return undefined;
}

function send(message) {
  if (!process.connected) return;
  // A server that died mid-send gets nothing; the exit file is the record.
  process.send(message, undefined, undefined, () => undefined);
}

// File work is synchronous on purpose: each call is a few microseconds on a
// local disk, this thread does nothing else, and a thread-pool round trip
// per file would cost more than the call and add to every task's latency.

function start(request) {
  const run = { pid: undefined, pidFile: undefined, recorded: false, killedFor: undefined, cgroup: request.cgroup, keepProcesses: request.keepProcesses };
  const failed = (stage, error) => send({ type: 'failed', id: request.id, stage, code: error.code ?? 'EIO', message: error.message });
  const descriptors = [];
  try {
    // Under outputRoot (the node root) no link a task planted is followed on the way to the files.
    if (request.outputRoot) descriptors.push(...openAppendAllNoFollow(request.outputRoot, [request.stdout, request.stderr]));
    else descriptors.push(openSync(request.stdout, 'a', 0o644), openSync(request.stderr, 'a', 0o644));
  } catch (error) {
    closeQuietly(descriptors);
    failed('open', error);
    return;
  }
  if (nativeSpawner) startNative(request, run, descriptors, failed);
  else startWithNode(request, run, descriptors, failed);
}

function startNative(request, run, descriptors, failed) {
  const argv = [request.program, ...request.args];
  const envp = Object.entries(request.env).map(([name, value]) => `${name}=${value}`);
  // Node's spawn refuses these; a C string would silently end at the NUL.
  const withNul = [request.program, request.cwd, ...argv, ...envp].find((text) => text.includes('\0'));
  if (withNul !== undefined) {
    closeQuietly(descriptors);
    failed('spawn', { code: 'ERR_INVALID_ARG_VALUE', message: `An argument, the working directory or an environment variable holds a null byte: ${JSON.stringify(withNul.slice(0, 80))}` });
    return;
  }
  let result;
  try {
    if (request.cgroup) mkdirSync(request.cgroup.path, { recursive: true });
    // As Node's spawn: with a uid, no supplementary group but those asked for.
    const groups = request.uid === undefined ? null : (request.groups ?? []);
    result = nativeSpawner.spawn(request.program, argv, envp, request.cwd, request.uid ?? -1, request.gid ?? -1, groups, descriptors[0], descriptors[1], request.cgroup?.path ?? null);
  } catch (error) {
    failed('spawn', error);
    return;
  } finally {
    closeQuietly(descriptors);
  }
  if (result.errno !== undefined) {
    const code = getSystemErrorName(-result.errno);
    failed('spawn', { code, message: `spawn ${request.program} ${code} (${result.stage})` });
    return;
  }
  nativeRuns.set(result.pid, { id: request.id, run });
  nativeKeepAlive ??= setInterval(() => undefined, 1 << 30);
  started(request, run, result.pid);
}

function reapNativeRuns() {
  const ended = nativeSpawner.reap();
  for (let index = 0; index < ended.length; index += 3) {
    const pid = ended[index];
    const entry = nativeRuns.get(pid);
    if (!entry) continue;
    nativeRuns.delete(pid);
    const signal = ended[index + 2] === 0 ? null : (signalNames.get(ended[index + 2]) ?? null);
    exited(entry.id, entry.run, ended[index + 1] < 0 ? null : ended[index + 1], signal);
  }
  if (nativeRuns.size === 0 && nativeKeepAlive) {
    clearInterval(nativeKeepAlive);
    nativeKeepAlive = undefined;
  }
}

const signalNames = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name]));

function startWithNode(request, run, descriptors, failed) {
  let child;
  // Node starts a process with one group; a user's supplementary groups are set by setpriv.
  const command =
    request.uid !== undefined && request.groups
      ? { program: SETPRIV, args: ['--reuid', String(request.uid), '--regid', String(request.gid ?? request.uid), '--groups', request.groups.join(','), '--', request.program, ...request.args] }
      : { program: request.program, args: request.args, uid: request.uid, gid: request.gid };
  try {
    // A child starts in its parent's control group: step into the run's to start it, and out again.
    if (request.cgroup) enterCgroup(request.cgroup.path);
  } catch (error) {
    closeQuietly(descriptors);
    failed('spawn', error);
    return;
  }
  try {
    child = spawn(command.program, command.args, {
      cwd: request.cwd,
      env: request.env,
      stdio: ['ignore', ...descriptors],
      detached: true,
      uid: command.uid,
      gid: command.gid,
    });
  } catch (error) {
    // Invalid arguments (e.g. a NUL byte) throw instead of emitting 'error'.
    failed('spawn', error);
    return;
  } finally {
    // The child holds its own copies of the descriptors.
    closeQuietly(descriptors);
    if (request.cgroup) leaveCgroup(request.cgroup.home);
  }
  if (child.pid === undefined) {
    // A program that cannot be started (ENOENT, EACCES) emits 'error' on the next tick.
    child.once('error', (error) => failed('spawn', error));
    return;
  }
  child.on('error', () => undefined);
  child.once('exit', (code, signal) => exited(request.id, run, code, signal));
  started(request, run, child.pid);
}

function started(request, run, pid) {
  run.pid = pid;
  runs.set(request.id, run);
  if (request.pidDirectory) {
    run.pidFile = path.join(request.pidDirectory, String(pid));
    try {
      writeFileSync(run.pidFile, request.record, { mode: 0o600 });
      run.recorded = true;
    } catch {
      // A record that cannot be written (a full disk) only costs the recovery after a crash.
    }
  }
  send({ type: 'started', id: request.id, pid });
}

function exited(id, run, code, signal) {
  // The task is done when its process is; whatever it started ends too.
  if (!run.keepProcesses) {
    killGroup(run.pid);
    if (run.cgroup) killCgroup(run.cgroup.path);
  }
  runs.delete(id);
  try {
    if (run.killedFor === 'stopped') {
      // A run the agent stopped has no outcome: nothing is left to recover.
      if (run.recorded) rmSync(run.pidFile, { force: true });
    } else if (run.recorded) {
      // The exit's line, appended to the run's record in one write (launcher-protocol.ts).
      const status = { exitCode: code, signal, timedOut: run.killedFor === 'timedOut', endTime: new Date().toISOString() };
      appendFileSync(run.pidFile, `\n${JSON.stringify(status)}`, { mode: 0o600 });
    }
  } catch {
    // The node's files are gone (the node was removed) or the disk is full: nothing to recover from.
  }
  send({ type: 'exited', id, code, signal });
}

function kill(request) {
  const run = runs.get(request.id);
  if (!run) return;
  run.killedFor ??= request.reason;
  killGroup(run.pid);
  if (run.cgroup) killCgroup(run.cgroup.path, false);
}

function forget(request) {
  const pidFile = path.join(request.pidDirectory, String(request.pid));
  try {
    rmSync(pidFile, { force: true });
  } catch {
    // Removed with its node.
  }
}

function closeQuietly(descriptors) {
  for (const descriptor of descriptors) {
    try {
      closeSync(descriptor);
    } catch {
      // Already closed.
    }
  }
}

function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

function enterCgroup(group) {
  mkdirSync(group, { recursive: true });
  writeFileSync(`${group}/cgroup.procs`, String(process.pid));
}

/** Must not fail: a launcher left in a run's group would be killed with it. */
function leaveCgroup(home) {
  mkdirSync(home, { recursive: true });
  writeFileSync(`${home}/cgroup.procs`, String(process.pid));
}

/** Kills every process in the run's control group; then removes the group once they are gone. */
function killCgroup(group, remove = true) {
  try {
    writeFileSync(`${group}/cgroup.kill`, '1');
  } catch {
    return;
  }
  if (remove) removeCgroup(group, 0);
}

function removeCgroup(group, attempt) {
  try {
    rmdirSync(group);
  } catch (error) {
    // Killed processes take a moment to go; a group still busy after a few seconds is removed with its node.
    if (error.code === 'EBUSY' && attempt < 100) setTimeout(() => removeCgroup(group, attempt + 1), 20).unref();
  }
}
