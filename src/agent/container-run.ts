// Container runs through an engine: the images a pool names, checked and
// pulled when the node starts, and the `run` that puts a task's command line
// in a container the way Azure Batch does on Linux (docs/compatibility.md
// "Container tasks"). Used by a process node's agent (running as root beside
// the engine) and by a container node's host, which runs its container runs
// beside it (providers/container/sibling-containers.ts); each gives the
// container's placement on its node:
//   - the node root (AZ_BATCH_NODE_ROOT_DIR) mounted at the path the node
//     sees it at, and nothing else of the host;
//   - the working directory the task's wd/ (taskWorkingDirectory), or the
//     image's own (containerImageDefault);
//   - the task's environment (environmentSettings and AZ_BATCH_*) set inside,
//     through an env file only root can read: never on the engine's command
//     line (every host user can read argv) nor in the engine's own
//     environment (the engine reads its configuration from there);
//   - as the run's user and groups, on the node's network (the host's, for
//     both kinds of node), the command line split into words, not given to a shell;
//   - a non-admin run gains no privilege inside (no capabilities, no setuid).
// Registry passwords reach the engine only in an auth file only root can
// read, removed after the pull.

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TaskFailureInfo } from '../core/common.js';
import { registryOf, type ContainerEngine, type ContainerRun, type NodeContainerImages } from '../core/container-settings.js';
import { invalidContainerImage } from '../core/node-start-failure.js';
import type { OsAccount } from '../core/ports.js';
import { SYSTEM_PATH } from '../core/system-path.js';

const execFileAsync = promisify(execFile);
const PULL_TIMEOUT_MS = 10 * 60_000;

type Credentials = { server: string; username: string; password: string };

/** Batch's failure for an image that is not there and cannot be pulled. */
export function invalidImageFailure(image: string, message: string): TaskFailureInfo {
  const { code, message: text, errorDetails } = invalidContainerImage(image, message).nodeError;
  return { category: 'usererror', code, message: text, ...(errorDetails ? { details: errorDetails } : {}) };
}

/** Batch's failure for a container the engine could not create or start. */
export function invalidSettingsFailure(message: string): TaskFailureInfo {
  return { category: 'usererror', code: 'ContainerInvalidSettings', message: 'At least one value of specified task container settings is invalid', details: [{ name: 'Message', value: message }] };
}

/** The engine's first line of complaint, without the noise of a stack. */
function firstLine(error: unknown): string {
  const stderr = (error as { stderr?: string }).stderr?.trim();
  return (stderr || (error as Error).message).split('\n').find((line) => line.trim())?.trim() ?? 'unknown error';
}

/** Where a process node keeps its root-only files for the engine (env and auth files). */
export function enginePrivateDirectory(nodeRoot: string): string {
  return path.join(nodeRoot, 'volatile', 'engine');
}

/** Makes the directory of root-only files for the engine, only root's. */
async function preparePrivateDirectory(directory: string): Promise<void> {
  await fs.mkdir(directory, { recursive: true, mode: 0o700 });
  await fs.chmod(directory, 0o700);
}

/** The label that finds a node's task containers, for a shutdown. */
export function nodeLabel(nodeRoot: string): string {
  return `lapis.node-root=${createHash('sha256').update(nodeRoot).digest('hex').slice(0, 16)}`;
}

async function engine(command: ContainerEngine, args: string[], timeout?: number): Promise<string> {
  const { stdout } = await execFileAsync(command.command, [...command.globalFlags, ...args], { env: { PATH: SYSTEM_PATH }, timeout, maxBuffer: 1 << 20 });
  return stdout;
}

/**
 * Whether the image is there; if not, pulls it (with the registry's
 * credentials when given, through an auth file in `privateDirectory`, a
 * directory only root can enter). Throws the engine's reason.
 */
export async function ensureImage(command: ContainerEngine, privateDirectory: string, image: string, registries: readonly Credentials[]): Promise<void> {
  try {
    await engine(command, ['image', 'inspect', '--format', '{{.Id}}', image]);
    return;
  } catch {
    // Not here: pulled below.
  }
  const credentials = registries.find((registry) => registry.server === registryOf(image));
  let authDirectory: string | undefined;
  const args = ['pull'];
  if (credentials) {
    await preparePrivateDirectory(privateDirectory);
    authDirectory = path.join(privateDirectory, `auth-${randomBytes(6).toString('hex')}`);
    await fs.mkdir(authDirectory, { mode: 0o700 });
    const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
    const file = path.join(authDirectory, 'config.json');
    await fs.writeFile(file, JSON.stringify({ auths: { [credentials.server]: { auth } } }), { mode: 0o600 });
    // Podman reads an auth file; Docker a configuration directory holding config.json.
    if (command.command === 'docker') args.unshift('--config', authDirectory);
    else args.push('--authfile', file);
  }
  try {
    await engine(command, [...args, image], PULL_TIMEOUT_MS);
  } catch (error) {
    throw new Error(firstLine(error));
  } finally {
    if (authDirectory) await fs.rm(authDirectory, { recursive: true, force: true });
  }
}

/** The images a node's pool names, checked when it starts: the first that cannot be had fails the start. */
export async function ensureNodeImages(command: ContainerEngine, privateDirectory: string, wanted: NodeContainerImages): Promise<void> {
  for (const image of wanted.images) {
    try {
      await ensureImage(command, privateDirectory, image, wanted.registries);
    } catch (error) {
      throw invalidContainerImage(image, (error as Error).message);
    }
  }
}

export interface ContainerLaunch {
  program: string;
  args: string[];
  /** The container's name, to remove it when the run is stopped or has ended. */
  name: string;
  /** The env file, removed with the run. */
  envFile: string;
}

export interface ContainerLaunchSpec {
  engine: ContainerEngine;
  container: ContainerRun;
  /** Where the run's env file is written: a directory only root can enter. */
  privateDirectory: string;
  /**
   * The engine words that put the container on its node: its labels, its
   * network, the node's Batch directories mounted, its ids and limits.
   */
  placement: string[];
  /** The task's working directory as the container sees it. */
  workingDirectory: string;
  /** The command line's words; none runs the image's ENTRYPOINT/CMD. */
  argv: string[];
  environment: Record<string, string>;
  /** /etc/hosts entries of the container (Azure's names of this server, with --azure-hostnames). */
  hosts: { name: string; address: string }[];
  owner: Pick<OsAccount, 'uid' | 'gid' | 'groups'> | undefined;
  admin: boolean;
}

/** The placement of a process node's task container: the node root mounted at its own path, the host's network (as process nodes' tasks have). */
export function processNodePlacement(nodeRoot: string): string[] {
  return [`--label=${nodeLabel(nodeRoot)}`, '--network=host', `--volume=${nodeRoot}:${nodeRoot}`];
}

/** Writes the run's env file and gives the engine's command line; nothing secret is on it. */
export async function containerLaunch(spec: ContainerLaunchSpec): Promise<ContainerLaunch> {
  const { engine: command, container, owner } = spec;
  const name = `lapis-task-${randomBytes(8).toString('hex')}`;
  await preparePrivateDirectory(spec.privateDirectory);
  const envFile = path.join(spec.privateDirectory, `${name}.env`);
  await fs.writeFile(envFile, envFileText(spec.environment), { mode: 0o600 });
  const user = owner ? [`--user=${owner.uid}:${owner.gid}`, ...(owner.groups ?? []).map((group) => `--group-add=${group}`)] : [];
  const confined = spec.admin ? [] : ['--cap-drop=all', '--security-opt=no-new-privileges'];
  const args = [
    ...command.globalFlags,
    'run',
    '--rm',
    `--name=${name}`,
    ...command.runFlags,
    '--pull=never',
    ...spec.placement,
    ...user,
    ...confined,
    ...(container.workingDirectory === 'taskWorkingDirectory' ? [`--workdir=${spec.workingDirectory}`] : []),
    `--env-file=${envFile}`,
    ...spec.hosts.map((host) => `--add-host=${host.name}:${host.address}`),
    ...container.runOptions,
    container.imageName,
    ...spec.argv,
  ];
  return { program: command.command, args, name, envFile };
}

/**
 * An env file holds one NAME=VALUE a line, read verbatim: a value with a
 * line break cannot be written there, so it is refused rather than cut.
 */
function envFileText(environment: Record<string, string>): string {
  return Object.entries(environment)
    .map(([name, value]) => {
      if (/[\r\n]/.test(value) || /[\r\n=]/.test(name)) throw new Error(`The environment variable ${name} holds a line break, which a container's environment file cannot carry.`);
      return `${name}=${value}\n`;
    })
    .join('');
}

/** Removes a run's container (killing it if it still runs) and its env file; quiet when already gone. */
export async function removeContainer(command: ContainerEngine, launch: Pick<ContainerLaunch, 'name' | 'envFile'>): Promise<void> {
  await engine(command, ['rm', '-f', launch.name]).catch(() => undefined);
  await fs.rm(launch.envFile, { force: true });
}

/** Removes every task container of the node (its shutdown). */
export async function removeNodeContainers(command: ContainerEngine, nodeRoot: string): Promise<void> {
  try {
    const ids = (await engine(command, ['ps', '-aq', '--filter', `label=${nodeLabel(nodeRoot)}`])).split('\n').filter(Boolean);
    if (ids.length > 0) await engine(command, ['rm', '-f', ...ids]);
  } catch {
    // No engine answering: nothing it could have left.
  }
}
