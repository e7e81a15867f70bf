// The container node provider against the node provider conformance suite
// (test/providers/conformance.ts), as startLapis builds it for
// --node-runtime container, on the Debian test image
// (scripts/build-test-node-image.sh). Skipped, saying why, without Podman or the image.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerNodeProvider } from '../../src/providers/container/container-node-provider.js';
import { TEST_NODE_IMAGE, testNodeImageMissing } from '../../src/testkit/test-node-image.js';
import { providerConformance } from '../providers/conformance.js';

const IMAGE = TEST_NODE_IMAGE;

if (testNodeImageMissing() === undefined) {
  providerConformance(
    'container nodes',
    async (events, { heartbeatIntervalMs }) => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-container-conformance-'));
      const nodesDirectory = path.join(dataDir, 'nodes');
      fs.mkdirSync(nodesDirectory, { mode: 0o711 });
      const provider = containerNodeProvider(
        events,
        { nodesDirectory, clock: () => new Date(), heartbeatIntervalMs },
        { imageReferenceOf: () => ({ publisher: 'lapis', offer: 'test', sku: 'debian' }), vmSizeOf: () => 'standard_a1_v2', nodeImages: [`lapis/test/debian=${IMAGE}`], log: () => undefined },
      );
      return {
        provider,
        async cleanup() {
          fs.rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  );
} else {
  const { test } = await import('node:test');
  test('NodeProvider conformance: container nodes', { skip: `needs podman and the image ${IMAGE} (scripts/build-test-node-image.sh)` }, () => undefined);
}
