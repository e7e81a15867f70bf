// Whether this server can run container pools, and how their nodes run
// container tasks: through the host's engine (process nodes run them through
// it; container nodes, which have no engine inside, ask the host to run each
// beside the node: sibling-containers.ts), or directly on the node ignoring
// the image when the operator chose `--containers host`. The engine is
// probed once, when a container pool first needs it: servers that never see
// one never start an engine.

import type { ContainerTaskRuntime } from '../../core/container-settings.js';
import { containerEngine, engineVersion, installed } from './engine.js';

export interface ContainerTaskSupportOptions {
  containers: 'engine' | 'host';
  engine?: 'podman' | 'docker';
  dockerHost?: string;
}

export interface ContainerTaskSupport {
  /** How container runs run; undefined when they cannot. */
  runtime(): ContainerTaskRuntime | undefined;
  /** Why container pools are refused, naming what is missing; undefined when they can run. */
  refusal(): string | undefined;
}

export function containerTaskSupport(options: ContainerTaskSupportOptions): ContainerTaskSupport {
  let probed: { runtime?: ContainerTaskRuntime; refusal?: string } | undefined;
  const probe = () => (probed ??= decide(options));
  return { runtime: () => probe().runtime, refusal: () => probe().refusal };
}

function decide(options: ContainerTaskSupportOptions): { runtime?: ContainerTaskRuntime; refusal?: string } {
  if (options.containers === 'host') return { runtime: { kind: 'host' } };
  const hostChoice = 'or start Lapis with --containers host to run container tasks directly on the nodes, ignoring their images';
  const engine = containerEngine(options);
  if (!installed(engine.command)) {
    return { refusal: `This server has no container engine: ${options.engine ?? 'neither podman nor docker'} is installed. Install Podman (with runc) or Docker, ${hostChoice}.` };
  }
  try {
    engineVersion(engine);
    return { runtime: { kind: 'engine', engine } };
  } catch (error) {
    const reason = ((error as { stderr?: string }).stderr || (error as Error).message).split('\n').find((line) => line.trim()) ?? '';
    return { refusal: `This server's container engine (${engine.command}) does not work: ${reason.trim()}. Make it work, ${hostChoice}.` };
  }
}
