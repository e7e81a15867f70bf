// Container pools and container tasks as Batch defines them: a pool's
// virtualMachineConfiguration.containerConfiguration and a task's
// containerSettings, checked when they are given, and what a run needs of
// them on its node (`ContainerRun`). How a node runs one is the agent's
// (agent/container-run.ts); docs/compatibility.md "Container tasks" says what
// Azure Batch does and where Lapis differs.
//
// containerRunOptions are the user's words handed to the engine that runs as
// root on the host, so they pass through an allow-list, not a deny-list: an
// option is allowed only when it changes nothing outside the task's own
// container (its environment, working directory, entrypoint, labels, limits,
// private tmpfs, network none/host/bridge). Each is re-emitted as one
// `--name=value` word, so a value can never be read as another option.

import { splitCommandLine } from './command-line.js';
import type { TaskFailureInfo } from './common.js';
import { batchErrors } from './errors.js';

export interface ContainerRegistry {
  registryServer?: string;
  username?: string;
  /** A secret: never logged, never on a command line, never answered. */
  password?: string;
  identityReference?: { resourceId?: string };
}

export interface ContainerConfiguration {
  type?: string;
  containerImageNames?: string[];
  containerRegistries?: ContainerRegistry[];
}

export interface TaskContainerSettings {
  imageName: string;
  containerRunOptions?: string;
  registry?: ContainerRegistry;
  workingDirectory?: 'taskWorkingDirectory' | 'containerImageDefault';
  containerHostBatchBindMounts?: { source?: string; isReadOnly?: boolean }[];
}

/** What a node needs to run a run in a container. */
export interface ContainerRun {
  imageName: string;
  /** The allowed containerRunOptions, one normalized word each (`--env=X=1`). */
  runOptions: string[];
  /** taskWorkingDirectory (the default): the task's wd/; containerImageDefault: the image's WORKDIR. */
  workingDirectory: 'taskWorkingDirectory' | 'containerImageDefault';
  /** Credentials for the registry the image is pulled from, when the task or pool gives them. */
  registry?: { server: string; username: string; password: string };
}

/** A node's container images, checked (and pulled if missing) before the node becomes idle. */
export interface NodeContainerImages {
  images: string[];
  registries: { server: string; username: string; password: string }[];
}

const CONTAINER_TYPES = ['dockerCompatible', 'criCompatible'];
const WORKING_DIRECTORIES = ['taskWorkingDirectory', 'containerImageDefault'];
/** A Docker image reference: never a word the engine could read as an option. */
const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._\-/:@+]{0,1023}$/;

/** Options that take a value, by every spelling; the first name is the one emitted. */
const VALUE_OPTIONS: readonly (readonly string[])[] = [
  ['--env', '-e'],
  ['--workdir', '-w'],
  ['--entrypoint'],
  ['--label', '-l'],
  ['--hostname', '-h'],
  ['--cpus'],
  ['--cpu-shares', '-c'],
  ['--memory', '-m'],
  ['--memory-reservation'],
  ['--memory-swap'],
  ['--shm-size'],
  ['--pids-limit'],
  ['--tmpfs'],
  ['--stop-signal'],
  ['--stop-timeout'],
  ['--network', '--net'],
];
const FLAG_OPTIONS: readonly string[] = ['--rm', '--init', '--read-only'];
const NETWORKS = ['none', 'host', 'bridge'];

export function checkContainerConfiguration(configuration: ContainerConfiguration, property: string): void {
  if (configuration.type !== undefined && !CONTAINER_TYPES.includes(configuration.type)) {
    throw batchErrors.invalidPropertyValue(`${property}.type`, `The type must be one of ${CONTAINER_TYPES.join(', ')}.`);
  }
  (configuration.containerImageNames ?? []).forEach((image, index) => checkImageName(image, `${property}.containerImageNames[${index}]`));
  (configuration.containerRegistries ?? []).forEach((registry, index) => checkRegistry(registry, `${property}.containerRegistries[${index}]`));
}

export function checkTaskContainerSettings(settings: TaskContainerSettings, property: string): void {
  if (!settings.imageName) throw batchErrors.missingRequiredProperty(`${property}.imageName`);
  checkImageName(settings.imageName, `${property}.imageName`);
  if (settings.workingDirectory !== undefined && !WORKING_DIRECTORIES.includes(settings.workingDirectory)) {
    throw batchErrors.invalidPropertyValue(`${property}.workingDirectory`, `The workingDirectory must be one of ${WORKING_DIRECTORIES.join(', ')}.`);
  }
  if (settings.registry) checkRegistry(settings.registry, `${property}.registry`);
  if (settings.containerHostBatchBindMounts?.length) {
    throw batchErrors.invalidPropertyValue(`${property}.containerHostBatchBindMounts`, 'Lapis mounts the whole node root (AZ_BATCH_NODE_ROOT_DIR) into task containers; choosing its parts is not supported.');
  }
  parseRunOptions(settings.containerRunOptions ?? '', `${property}.containerRunOptions`);
}

function checkImageName(image: string, property: string): void {
  if (!IMAGE_NAME.test(image)) throw batchErrors.invalidPropertyValue(property, 'The image name is not a valid container image reference.');
}

function checkRegistry(registry: ContainerRegistry, property: string): void {
  if (registry.identityReference) {
    throw batchErrors.invalidPropertyValue(`${property}.identityReference`, 'Lapis has no managed identities: give the registry a username and password instead.');
  }
  if (!registry.username) throw batchErrors.missingRequiredProperty(`${property}.username`);
  if (registry.password === undefined) throw batchErrors.missingRequiredProperty(`${property}.password`);
}

/** The allowed containerRunOptions as normalized words; anything else is refused, naming the option. */
export function parseRunOptions(text: string, property: string): string[] {
  if (!text.trim()) return [];
  const split = splitCommandLine(text);
  if (!split.ok) throw batchErrors.invalidPropertyValue(property, `The container run options could not be parsed: ${split.reason}`);
  const words = split.argv;
  const options: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    const equals = word.startsWith('--') ? word.indexOf('=') : -1;
    const name = equals > 0 ? word.slice(0, equals) : word;
    if (FLAG_OPTIONS.includes(name) && equals < 0) {
      options.push(name);
      continue;
    }
    const spellings = VALUE_OPTIONS.find((names) => names.includes(name));
    if (!spellings) throw refusedOption(property, name);
    const value = equals > 0 ? word.slice(equals + 1) : words[++i];
    if (value === undefined) throw batchErrors.invalidPropertyValue(property, `The container run option '${name}' needs a value.`);
    const canonical = spellings[0] as string;
    if (canonical === '--network' && !NETWORKS.includes(value)) {
      throw batchErrors.invalidPropertyValue(property, `The container run option '--network ${value}' is not allowed: a task's container joins no other container's or the host's namespaces but its network (${NETWORKS.join(', ')}).`);
    }
    if (canonical === '--env' && !value.includes('=')) {
      throw batchErrors.invalidPropertyValue(property, `The container run option '--env ${value}' needs NAME=VALUE: the engine's own environment is not the task's.`);
    }
    options.push(`${canonical}=${value}`);
  }
  return options;
}

function refusedOption(property: string, name: string) {
  const allowed = [...FLAG_OPTIONS, ...VALUE_OPTIONS.map((names) => names.join('/'))].join(', ');
  return batchErrors.invalidPropertyValue(
    property,
    `The container run option '${name}' is not allowed: the engine runs as root on the host, so only options that change nothing outside the task's own container are (${allowed}). Mounts, devices, capabilities, security options, users and namespaces are set by Lapis.`,
  );
}

/** The registry part of an image reference (docker.io when it names none). */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  return first && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

function serverOf(registry: ContainerRegistry): string {
  return (registry.registryServer ?? 'docker.io').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}

function credentialsOf(registry: ContainerRegistry): { server: string; username: string; password: string } {
  return { server: serverOf(registry), username: registry.username ?? '', password: registry.password ?? '' };
}

/** The images a pool's nodes check (and pull) when they start, with the pool's registry credentials. */
export function nodeContainerImages(configuration: ContainerConfiguration | undefined): NodeContainerImages | undefined {
  if (!configuration) return undefined;
  return { images: configuration.containerImageNames ?? [], registries: (configuration.containerRegistries ?? []).map(credentialsOf) };
}

export type RunKindForContainers = 'task' | 'startTask' | 'jobPreparation' | 'jobRelease';

/**
 * A run's container, or the failure Batch reports before running it: a task
 * with containerSettings on a pool without containerConfiguration
 * (ContainerPoolNotSupported), or a task (a job manager too) without them on
 * a pool with it (ContainerTaskSettingsNotFound). Start, preparation and
 * release tasks may run on the node itself.
 */
export function containerRunOf(
  kind: RunKindForContainers,
  settings: TaskContainerSettings | undefined,
  pool: ContainerConfiguration | undefined,
): { container?: ContainerRun; failure?: TaskFailureInfo } {
  if (!settings) {
    if (pool && kind === 'task') {
      return { failure: { category: 'usererror', code: 'ContainerTaskSettingsNotFound', message: 'Container-enabled compute node requires task container settings' } };
    }
    return {};
  }
  if (!pool) {
    return {
      failure: {
        category: 'usererror',
        code: 'ContainerPoolNotSupported',
        message: 'The compute node does not support container tasks: its pool has no virtualMachineConfiguration.containerConfiguration.',
      },
    };
  }
  const server = registryOf(settings.imageName);
  const registry = settings.registry ?? (pool.containerRegistries ?? []).find((candidate) => serverOf(candidate) === server);
  let runOptions: string[];
  try {
    runOptions = parseRunOptions(settings.containerRunOptions ?? '', 'containerSettings.containerRunOptions');
  } catch (error) {
    const reason = (error as { values?: { key: string; value: string }[] }).values?.find((value) => value.key === 'Reason')?.value ?? '';
    return { failure: { category: 'usererror', code: 'ContainerInvalidSettings', message: 'At least one value of specified task container settings is invalid', details: [{ name: 'Message', value: reason }] } };
  }
  return {
    container: {
      imageName: settings.imageName,
      runOptions,
      workingDirectory: settings.workingDirectory ?? 'taskWorkingDirectory',
      ...(registry ? { registry: credentialsOf(registry) } : {}),
    },
  };
}

/** An engine as a node runs containers with it: `podman` or `docker`, and the flags every `run` needs on this host. */
export interface ContainerEngine {
  command: string;
  /** The words every call begins with, before its subcommand: Docker's `-H` for a daemon not at its default socket (--docker-host). */
  globalFlags: string[];
  runFlags: string[];
}

/**
 * How a node runs container runs: through an engine on its host (process
 * nodes), by asking its host to run each one beside the node (`sibling`:
 * container nodes, which have no engine inside), or (the operator's
 * `--containers host`, for machines without one) directly on the node,
 * ignoring the image.
 */
export type ContainerTaskRuntime = { kind: 'engine'; engine: ContainerEngine } | { kind: 'sibling' } | { kind: 'host' };
