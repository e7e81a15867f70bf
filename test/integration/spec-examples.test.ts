// The REST spec's own x-ms-examples (2022-10-01.16.0) as golden tests: each
// example's request is replayed against a real Lapis, after making what it
// presupposes, and the answer must have the documented status, the documented
// headers and the shape of the documented body (test/fixtures/spec-examples/
// body-shape.ts). Changes to a request for a local Linux node, documented
// parts Lapis leaves out and examples that cannot apply are listed in the
// table the first test prints, each with its reason; an example file without
// a row fails. The examples are kept outside the repository
// (docs/spec-examples.md); without them the replay is skipped, saying so.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OPENSSL_MISSING } from '../../src/testkit/test-certificates.js';
import { startTestServer, type TestServer } from '../../src/testkit/test-server.js';
import { shapeDifferences } from '../fixtures/spec-examples/body-shape.js';
import { EXAMPLES_DIRECTORY, loadExamples, type SpecExample } from '../fixtures/spec-examples/example-files.js';
import { ExampleWorld } from '../fixtures/spec-examples/example-world.js';
import { replay } from '../fixtures/spec-examples/replay.js';
import { SCENARIOS, type Scenario } from '../fixtures/spec-examples/scenarios.js';

const examples = loadExamples();
const unavailable = examples === undefined ? `the spec's examples are not at ${EXAMPLES_DIRECTORY} (see docs/spec-examples.md)` : OPENSSL_MISSING;
let server: TestServer;
let world: ExampleWorld;
let workDir: string;

before(async () => {
  if (unavailable) return;
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-examples-'));
  server = await startTestServer();
  world = new ExampleWorld(server, workDir);
});

after(async () => {
  await server?.stop();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

function title(scenario: Scenario): string {
  return scenario.status ? `${scenario.example} (${scenario.status})` : scenario.example;
}

/** The documented answer: its status (the first success unless the row names one), headers and body. */
function documented(example: SpecExample, scenario: Scenario): { status: string; headers: Record<string, unknown>; body: unknown } {
  const status = scenario.status ?? Object.keys(example.responses).find((code) => code.startsWith('2'));
  assert.ok(status, 'the example documents a success');
  const { body, headers, ...beside } = example.responses[status] ?? {};
  return { status, headers: { ...(headers as Record<string, unknown> | undefined), ...beside }, body };
}

/** Header values that say what the answer is, not which resource or moment: checked as well as present. */
const EXACT_HEADERS = new Set(['ocp-batch-file-isdirectory']);

function replayTable(): string[] {
  return SCENARIOS.map((scenario) => {
    const how = scenario.skip ? `skipped: ${scenario.skip}` : scenario.adapted ? `adapted: ${scenario.adapted}` : 'as documented';
    const differences = Object.entries(scenario.differences ?? {}).map(([at, why]) => `; ${at} not answered: ${why}`).join('');
    return `${title(scenario)} | ${scenario.operation} | ${how}${differences}`;
  });
}

describe('the spec examples of 2022-10-01.16.0', { skip: unavailable || false }, () => {
  test('every example file has a row, and the rows are listed with how each is replayed', (t) => {
    t.diagnostic('example | operation | replay');
    for (const line of replayTable()) t.diagnostic(line);
    const covered = new Set(SCENARIOS.map((scenario) => scenario.example));
    assert.deepEqual([...examples!.keys()].filter((name) => !covered.has(name)), [], 'example files without a row');
  });

  for (const scenario of SCENARIOS) {
    test(`${title(scenario)}: ${scenario.operation}`, { skip: scenario.skip ?? (!examples?.has(scenario.example) && 'not among the example files') }, async (t) => {
      const example = examples!.get(scenario.example)!;
      const parameters = structuredClone(example.parameters);
      await scenario.prepare?.(world, parameters);
      const expected = documented(example, scenario);
      const answer = await replay(server, scenario.operation, parameters);

      assert.equal(String(answer.status), expected.status, `status (${answer.text.slice(0, 300)})`);
      for (const [name, value] of Object.entries(expected.headers)) {
        assert.ok(answer.headers.has(name), `header ${name}`);
        if (EXACT_HEADERS.has(name.toLowerCase())) assert.equal(answer.headers.get(name), String(value), `header ${name}`);
      }
      if (typeof expected.body === 'string') {
        assert.ok(answer.text.length > 0, 'a byte stream');
      } else if (expected.body !== undefined) {
        const known = scenario.differences ?? {};
        const isKnown = (difference: string) => Object.keys(known).some((at) => difference.startsWith(at));
        const differences = shapeDifferences(expected.body, answer.body).filter((difference) => !isKnown(difference));
        for (const [at, why] of Object.entries(known)) t.diagnostic(`${at} not answered: ${why}`);
        assert.deepEqual(differences, [], 'the documented body shape');
      }
    });
  }
});
