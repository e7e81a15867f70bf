// Which container engine this host has, and the flags its `run` needs here:
// Podman with runc (crun fails on hybrid cgroups) and ulimits within the
// host's hard limits, else Docker, at its default socket or the one
// --docker-host names (a daemon of its own, as the tests start). Container
// nodes and container tasks on process nodes both run through it.

import { execFileSync } from 'node:child_process';
import type { ContainerEngine } from '../../core/container-settings.js';
import { SYSTEM_PATH } from '../../core/system-path.js';

export interface ContainerEngineChoice {
  engine?: 'podman' | 'docker';
  /** Docker's daemon socket (`docker -H`), when not its default. */
  dockerHost?: string;
}

export function containerEngine(choice: ContainerEngineChoice): ContainerEngine {
  const command = choice.engine ?? (installed('podman') ? 'podman' : 'docker');
  const ulimits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
  // --replace: a node started again after its agent was killed may find its old container not yet gone.
  if (command === 'podman') return { command, globalFlags: [], runFlags: [...(installed('runc') ? ['--runtime', 'runc'] : []), ...ulimits, '--replace'] };
  return { command, globalFlags: choice.dockerHost ? ['-H', choice.dockerHost] : [], runFlags: ulimits };
}

export function installed(command: string): boolean {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore', env: { PATH: SYSTEM_PATH } });
    return true;
  } catch {
    return false;
  }
}

/** The engine's server version (which needs it working, not only installed); throws its complaint when it does not answer. */
export function engineVersion(engine: ContainerEngine): string {
  return execFileSync(engine.command, [...engine.globalFlags, 'version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', env: { PATH: SYSTEM_PATH }, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}
