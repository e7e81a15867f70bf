// The Debian image the container tests run nodes and tasks on, built on this
// machine (no registry is reachable): scripts/build-test-node-image.sh, run by
// the README's test command.

import { spawnSync } from 'node:child_process';

export const TEST_NODE_IMAGE = 'localhost/lapis-test/debian:bookworm';

/** Why a test that needs the image cannot run here, or undefined when Podman has it. */
export function testNodeImageMissing(): string | undefined {
  if (spawnSync('podman', ['image', 'exists', TEST_NODE_IMAGE], { stdio: 'ignore' }).status === 0) return undefined;
  return `needs podman and the image ${TEST_NODE_IMAGE} (scripts/build-test-node-image.sh)`;
}
