// A Docker daemon of the test run's own, for the Docker tests: Debian's
// dockerd (scripts/install-container-tools.sh installs it, never starts it)
// with its own data, exec root, socket, pid file and configuration under one
// temporary directory, touching nothing of the host's networking (no
// iptables, no bridge, no forwarding); the storage driver is whichever
// dockerd finds working. No registry is reachable here: the test image
// Podman has is loaded into it. Stopped, and its directory unmounted and
// removed, at the end; it is also told to stop when the test process dies
// (a parent-death signal), and a directory a killed run left (named by that
// run's pid) is cleaned by the next.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './test-server.js';

const PREFIX = 'lapis-dockerd-';

export interface PrivateDockerDaemon {
  /** The daemon's socket, as `docker -H` and Lapis's --docker-host take it. */
  host: string;
  /** Runs the docker client against this daemon; its output. */
  docker(args: string[]): string;
  stop(): Promise<void>;
}

/** Starts the daemon with `images` (which Podman has) loaded; or why it cannot run here, for a test's skip. */
export async function startPrivateDockerDaemon(images: readonly string[]): Promise<PrivateDockerDaemon | { skip: string }> {
  if (process.getuid?.() !== 0) return { skip: 'needs root to run a Docker daemon' };
  const version = spawnSync('dockerd', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) return { skip: 'needs dockerd (Debian docker.io: scripts/install-container-tools.sh)' };
  if (spawnSync('docker', ['--version'], { stdio: 'ignore' }).status !== 0) return { skip: 'needs the docker client' };
  for (const image of images) {
    if (spawnSync('podman', ['image', 'exists', image], { stdio: 'ignore' }).status !== 0) return { skip: `needs podman and the image ${image} (scripts/build-test-node-image.sh)` };
  }
  removeAbandoned();
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
  const host = `unix://${path.join(directory, 'docker.sock')}`;
  // Its own configuration file, so the host's /etc/docker/daemon.json is not read; before Docker 23 the daemon also keeps a key, by default in /etc/docker.
  const major = Number(/version (\d+)/i.exec(version.stdout)?.[1] ?? 0);
  fs.writeFileSync(path.join(directory, 'daemon.json'), JSON.stringify(major < 23 ? { 'deprecated-key-path': path.join(directory, 'key.json') } : {}));
  const log = fs.openSync(path.join(directory, 'dockerd.log'), 'a');
  // setpriv's parent-death signal: a test process killed outright (a file's timeout) does not leave the daemon running.
  const daemon = spawn(
    'setpriv',
    [
      '--pdeathsig=SIGTERM',
      '--',
      'dockerd',
      `--config-file=${path.join(directory, 'daemon.json')}`,
      `--data-root=${path.join(directory, 'data')}`,
      `--exec-root=${path.join(directory, 'exec')}`,
      `--pidfile=${path.join(directory, 'dockerd.pid')}`,
      `--host=${host}`,
      '--iptables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--bridge=none',
      '--userland-proxy=false',
    ],
    { stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  let spawnError: Error | undefined;
  daemon.once('error', (error) => (spawnError = error));
  const killOnExit = () => daemon.kill('SIGKILL');
  process.once('exit', killOnExit);
  const docker = (args: string[]) => execFileSync('docker', ['-H', host, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    await stopDaemon(daemon);
    cleanDirectory(directory);
  };
  try {
    const answer = await waitFor(
      () => {
        if (spawnError || daemon.exitCode !== null || daemon.signalCode !== null) return 'ended';
        docker(['version', '--format', '{{.Server.Version}}']);
        return 'answers';
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'dockerd to answer' },
    );
    if (answer === 'ended') throw new Error(`dockerd ended: ${spawnError?.message ?? `exit ${daemon.exitCode ?? daemon.signalCode}`}`);
    for (const image of images) await loadFromPodman(image, host);
  } catch (error) {
    const tail = fs.readFileSync(path.join(directory, 'dockerd.log'), 'utf8').trim().split('\n').slice(-5).join('\n');
    await stop();
    return { skip: `a Docker daemon of its own could not be started here: ${(error as Error).message.split('\n')[0]}\n${tail}` };
  }
  return { host, docker, stop };
}

/** `podman save IMAGE | docker load`, keeping the image's name. */
async function loadFromPodman(image: string, host: string): Promise<void> {
  const save = spawn('podman', ['save', image], { stdio: ['ignore', 'pipe', 'inherit'] });
  const load = spawn('docker', ['-H', host, 'load'], { stdio: ['pipe', 'ignore', 'pipe'] });
  save.stdout.pipe(load.stdin);
  let complaint = '';
  load.stderr.on('data', (chunk: Buffer) => (complaint += chunk.toString()));
  const [saved, loaded] = await Promise.all([exited(save), exited(load)]);
  if (saved !== 0 || loaded !== 0) throw new Error(`loading ${image} into dockerd failed (podman save ${saved}, docker load ${loaded}): ${complaint.trim()}`);
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('close', (code) => resolve(code)));
}

/** SIGTERM (dockerd stops its containers and its containerd), SIGKILL if it has not ended in 30 s. */
async function stopDaemon(daemon: ChildProcess): Promise<void> {
  if (daemon.exitCode !== null || daemon.signalCode !== null) return;
  const ended = exited(daemon);
  daemon.kill('SIGTERM');
  const timer = setTimeout(() => daemon.kill('SIGKILL'), 30_000);
  await ended;
  clearTimeout(timer);
}

/** Unmounts what the daemon left mounted under its directory (deepest first), then removes it. */
function cleanDirectory(directory: string): void {
  const mounts = fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((mountPoint) => mountPoint.startsWith(`${directory}/`))
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mounts) spawnSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
  fs.rmSync(directory, { recursive: true, force: true });
}

/** Directories of daemons of runs that ended without cleaning up: their test process (named in the directory) and their daemon (by its pid file) are gone. */
function removeAbandoned(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const owner = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1];
    if (!owner || alive(Number(owner))) continue;
    const directory = path.join(os.tmpdir(), name);
    const pidFile = path.join(directory, 'dockerd.pid');
    if (fs.existsSync(pidFile) && alive(Number(fs.readFileSync(pidFile, 'utf8').trim()))) continue;
    cleanDirectory(directory);
  }
}

function alive(pid: number): boolean {
  return pid > 0 && fs.existsSync(`/proc/${pid}`);
}
