// The request-body models the server checks against (schemas/mappers.ts) are
// @azure/batch's own, read from a generated file: that file must be what the
// installed @azure/batch says (regenerate with scripts/generate-batch-mappers.mjs).

import { BatchServiceMappers } from '@azure/batch';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { BATCH_MAPPERS_FILE } from '../../src/api/batch/schemas/mappers.js';

test("batch-mappers.json holds every model of the installed @azure/batch, as it is", () => {
  const file = JSON.parse(fs.readFileSync(BATCH_MAPPERS_FILE, 'utf8')) as { azureBatchVersion: string; mappers: Record<string, unknown> };
  const { version } = createRequire(import.meta.url)('@azure/batch/package.json') as { version: string };
  assert.equal(file.azureBatchVersion, version, 'generated from this version of @azure/batch');
  const installed = BatchServiceMappers as unknown as Record<string, unknown>;
  assert.deepEqual(Object.keys(file.mappers).sort(), Object.keys(installed).sort());
  for (const name of Object.keys(installed)) assert.deepEqual(file.mappers[name], JSON.parse(JSON.stringify(installed[name])), name);
});
