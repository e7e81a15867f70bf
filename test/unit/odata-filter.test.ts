import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isBatchError } from '../../src/core/errors.js';
import { COMPARISON_OPERATORS, type FilterNode, type FilterProperty, type FilterValue } from '../../src/core/odata/filter-ast.js';
import { matchesFilter } from '../../src/core/odata/filter-eval.js';
import { FILTER_MAX_DEPTH, FILTER_MAX_LENGTH, parseFilter, parseFilterParameter } from '../../src/core/odata/filter-parser.js';
import { printFilter } from '../../src/core/odata/filter-print.js';
import { FILTER_PROPERTIES, findFilterProperty, type FilterListKind } from '../../src/core/odata/filter-properties.js';
import { parseDatetime } from '../../src/core/odata/filter-values.js';

const KINDS = Object.keys(FILTER_PROPERTIES) as FilterListKind[];

const prop = (kind: FilterListKind, name: string): FilterProperty => {
  const found = findFilterProperty(kind, name);
  assert.ok(found, `${kind} has ${name}`);
  return found;
};
const tasks = (name: string) => prop('tasks', name);

/** Runs `parse` and answers the Reason of the BatchError it must throw. */
function reasonOf(parse: () => unknown, text: string): string {
  try {
    parse();
  } catch (error) {
    assert.ok(isBatchError(error), `expected a BatchError, got ${String(error)}`);
    assert.equal(error.code, 'InvalidQueryParameterValue');
    assert.equal(error.kind, 'badRequest');
    assert.deepEqual(error.values.slice(0, 2), [
      { key: 'QueryParameterName', value: '$filter' },
      { key: 'QueryParameterValue', value: text },
    ]);
    const reason = error.values.find((value) => value.key === 'Reason')?.value;
    assert.ok(reason, 'a Reason is given');
    return reason;
  }
  assert.fail(`expected ${JSON.stringify(text.slice(0, 80))} to be refused`);
}

const refused = (text: string, kind: FilterListKind = 'tasks') => reasonOf(() => parseFilter(text, kind), text);

test('the filters the Batch documentation shows parse to the expected trees', () => {
  const active: FilterNode = { kind: 'compare', property: tasks('state'), op: 'eq', value: { type: 'enum', value: 'active' } };
  assert.deepEqual(parseFilter("state eq 'active'", 'tasks'), active);
  assert.deepEqual(parseFilter("(state eq 'completed') and (executionInfo/exitCode ne 0)", 'tasks'), {
    kind: 'and',
    operands: [
      { kind: 'compare', property: tasks('state'), op: 'eq', value: { type: 'enum', value: 'completed' } },
      { kind: 'compare', property: tasks('executionInfo/exitCode'), op: 'ne', value: { type: 'int', value: 0 } },
    ],
  });
  assert.deepEqual(parseFilter("startswith(id,'Task')", 'tasks'), { kind: 'startswith', property: tasks('id'), prefix: 'Task' });
  assert.deepEqual(parseFilter("creationTime gt datetime'2024-01-01T00:00:00Z'", 'tasks'), {
    kind: 'compare',
    property: tasks('creationTime'),
    op: 'gt',
    value: { type: 'datetime', value: '2024-01-01T00:00:00.0000000Z' },
  });
  assert.deepEqual(parseFilter("not (state eq 'running')", 'tasks'), {
    kind: 'not',
    operand: { kind: 'compare', property: tasks('state'), op: 'eq', value: { type: 'enum', value: 'running' } },
  });
  assert.deepEqual(parseFilter("executionInfo/result eq 'failure'", 'tasks'), {
    kind: 'compare',
    property: tasks('executionInfo/result'),
    op: 'eq',
    value: { type: 'enum', value: 'failure' },
  });
});

test('each list takes its own properties', () => {
  const accepted: [FilterListKind, string][] = [
    ['pools', "state eq 'active' and allocationState eq 'steady'"],
    ['pools', 'enableAutoScale eq true or currentDedicatedNodes ge 2'],
    ['pools', "startswith(id,'pool-') and vmSize eq 'STANDARD_D2s_v3'"],
    ['jobs', "poolInfo/poolId eq 'p1' and priority gt -100"],
    ['jobs', "executionInfo/endTime le datetime'2024-06-01T12:00:00.5Z' and executionInfo/terminateReason eq 'UserTerminate'"],
    ['jobSchedules', "state eq 'active' and executionInfo/nextRunTime lt datetime'2030-01-01T00:00:00Z'"],
    ['nodes', "state eq 'idle' and isDedicated eq false and schedulingState ne 'disabled'"],
    ['nodes', "startTaskInfo/state eq 'completed' and startTaskInfo/exitCode ne 0"],
    ['certificates', "state eq 'deletefailed' and thumbprintAlgorithm eq 'sha1'"],
    ['files', "startswith(name,'wd/out')"],
    ['poolNodeCounts', "poolId eq 'p1'"],
    ['supportedImages', "osType eq 'linux' and verificationType ne 'unverified'"],
  ];
  for (const [kind, text] of accepted) assert.doesNotThrow(() => parseFilter(text, kind), `${kind}: ${text}`);
  assert.match(refused('executionInfo/exitCode eq 0', 'pools'), /'executionInfo\/exitCode' at character 1 cannot be used in a filter on this list/);
  assert.match(refused("name eq 'a'", 'files'), /operator 'eq' .* cannot be used with 'name'; it takes startswith/);
  assert.match(refused("startTaskInfo/state ne 'running'", 'nodes'), /operator 'ne'/);
});

test('keywords, property names and enum values match without regard to case', () => {
  const lower = parseFilter("state eq 'active' and not (executionInfo/exitCode lt -1) or startswith(id,'x') eq true", 'tasks');
  const upper = parseFilter("State EQ 'ACTIVE' AND NOT (ExecutionInfo/ExitCode LT -1) Or StartsWith(ID,'x') Eq True", 'tasks');
  assert.deepEqual(upper, lower);
  // String values keep their case: only enums fold.
  assert.deepEqual(parseFilter("id eq 'Task1'", 'tasks'), { kind: 'compare', property: tasks('id'), op: 'eq', value: { type: 'string', value: 'Task1' } });
});

test("quoted strings use '' for a quote, and startswith compared with false is a negation", () => {
  assert.deepEqual(parseFilter("displayName eq 'it''s ''quoted'''", 'tasks'), {
    kind: 'compare',
    property: tasks('displayName'),
    op: 'eq',
    value: { type: 'string', value: "it's 'quoted'" },
  });
  const starts: FilterNode = { kind: 'startswith', property: tasks('id'), prefix: 'a' };
  assert.deepEqual(parseFilter("startswith(id,'a') eq false", 'tasks'), { kind: 'not', operand: starts });
  assert.deepEqual(parseFilter("startswith(id,'a') ne false", 'tasks'), starts);
  assert.deepEqual(parseFilter("startswith( id , 'a' )", 'tasks'), starts);
});

test('datetime literals take fractions and offsets and become canonical UTC', () => {
  const canonical = (text: string) => parseDatetime(text);
  assert.deepEqual(canonical('2024-01-02T03:04:05Z'), { ok: true, value: '2024-01-02T03:04:05.0000000Z' });
  assert.deepEqual(canonical('2024-01-02T03:04:05.1234567Z'), { ok: true, value: '2024-01-02T03:04:05.1234567Z' });
  assert.deepEqual(canonical('2024-01-02T03:04:05.5+01:30'), { ok: true, value: '2024-01-02T01:34:05.5000000Z' });
  assert.deepEqual(canonical('2024-12-31T23:30:00-01:00'), { ok: true, value: '2025-01-01T00:30:00.0000000Z' });
  assert.deepEqual(canonical('2024-01-02T03:04'), { ok: true, value: '2024-01-02T03:04:00.0000000Z' });
  assert.deepEqual(canonical('2024-02-29'), { ok: true, value: '2024-02-29T00:00:00.0000000Z' });
  assert.deepEqual(canonical('0050-06-01T00:00:00Z'), { ok: true, value: '0050-06-01T00:00:00.0000000Z' });
  for (const bad of ['2023-02-29', '2024-13-01', '2024-01-01T24:00:00Z', '2024-01-01T00:00:00.12345678Z', '0001-01-01T00:00:00+01:00', 'yesterday', '']) {
    assert.equal(canonical(bad).ok, false, bad);
  }
});

test('invalid filters are InvalidQueryParameterValue with a reason naming the problem and where it is', () => {
  const cases: [string, RegExp][] = [
    ['state eq', /'state' takes a quoted value .* found the end of the filter at character 9/],
    ["stat eq 'active'", /property 'stat' at character 1 cannot be used .* filterable properties are: id, displayName, state/],
    ["state gt 'active'", /operator 'gt' at character 7 cannot be used with 'state'; it takes eq, ne/],
    ["executionInfo/exitCode eq 'x'", /'executionInfo\/exitCode' takes an integer .* found the string 'x' at character 27/],
    ['executionInfo/exitCode eq 1.5', /Unexpected character '\.' at character 28/],
    ['executionInfo/exitCode eq 99999999999999999999', /integer 99999999999999999999 .* out of range/],
    ["startswith(state,'a')", /startswith at character 1 cannot be used with 'state'/],
    ["startswith(requiredSlots,'1')", /startswith .* cannot be used with 'requiredSlots'/],
    ["startswith(id,3)", /startswith takes a quoted prefix .* found '3' at character 15/],
    ["startswith(id,'a') gt true", /Unexpected 'gt' at character 20/],
    ["startswith(id,'a') eq 'yes'", /can only be compared with true or false/],
    ["state eq 'bogus'", /the string 'bogus' at character 10 is not a value of 'state'; expected one of: active, preparing, running, completed/],
    ["creationTime gt '2024-01-01'", /'creationTime' takes a datetime such as datetime'/],
    ["creationTime gt datetime'2024-02-30T00:00:00Z'", /datetime '2024-02-30T00:00:00Z' at character 17 is not valid: 2024-02 has no day 30/],
    ["creationTime gt datetime'2024-01-01", /datetime literal at character 17 has no closing quote/],
    ["(state eq 'active'", /Expected '\)' to close the '\(' at character 1 at character 19 but found the end of the filter/],
    ["state eq 'active')", /Unexpected '\)' at character 18; expected 'and', 'or' or the end of the filter/],
    ["id eq 'unterminated", /string that starts at character 7 has no closing quote/],
    ["id eq 'a' && id eq 'b'", /Unexpected character '&' at character 11/],
    ["id eq 'a' and", /Expected a property name, .* found the end of the filter/],
    ["and id eq 'a'", /Expected a property name, .* at character 1 but found 'and'/],
    ["id eq null", /'id' takes a quoted string .* found 'null'/],
    ["id 'a'", /Expected a comparison operator \(eq, ne, gt, ge, lt, le\) after 'id' at character 4/],
    ['', /The filter is empty/],
    ['   ', /The filter is empty/],
    ['id eq \u0001', /Unexpected character U\+0001 at character 7/],
  ];
  for (const [text, pattern] of cases) assert.match(refused(text), pattern, text);
  assert.match(refused('enableAutoScale eq 1', 'pools'), /'enableAutoScale' takes true or false; found '1'/);
});

test('length and nesting are capped with a clear reason, never a stack overflow', () => {
  const long = `id eq '${'x'.repeat(FILTER_MAX_LENGTH)}'`;
  assert.match(refused(long), /characters long; the limit is 4096/);
  const deep = (depth: number) => `${'('.repeat(depth)}id eq 'a'${')'.repeat(depth)}`;
  assert.doesNotThrow(() => parseFilter(deep(FILTER_MAX_DEPTH), 'tasks'));
  assert.match(refused(deep(FILTER_MAX_DEPTH + 1)), /more than 32 levels deep at character 33/);
  assert.match(refused('('.repeat(2000)), /more than 32 levels deep/);
  assert.match(refused(`${'not '.repeat(FILTER_MAX_DEPTH + 1)}id eq 'a'`), /more than 32 levels deep/);
  // `not (…)` is one level.
  const nots = (depth: number) => `${'not ('.repeat(depth)}id eq 'a'${')'.repeat(depth)}`;
  assert.doesNotThrow(() => parseFilter(nots(FILTER_MAX_DEPTH), 'tasks'));
  assert.match(refused(nots(FILTER_MAX_DEPTH + 1)), /more than 32 levels deep at character 161/);
  // A flat chain as long as the limit allows is fine: and/or chains do not nest.
  const chain = Array.from({ length: 250 }, (_, i) => `id eq '${i}'`).join(' or ');
  assert.ok(chain.length <= FILTER_MAX_LENGTH);
  const node = parseFilter(chain, 'tasks');
  assert.equal(node.kind === 'or' && node.operands.length, 250);
});

test('an absent or blank $filter parameter is no filter', () => {
  assert.equal(parseFilterParameter(undefined, 'tasks'), undefined);
  assert.equal(parseFilterParameter('', 'tasks'), undefined);
  assert.equal(parseFilterParameter('  ', 'tasks'), undefined);
  assert.ok(parseFilterParameter("state eq 'active'", 'tasks'));
});

test('the property tables are well formed', () => {
  for (const kind of KINDS) {
    const names = FILTER_PROPERTIES[kind].map((p) => p.name.toLowerCase());
    assert.equal(new Set(names).size, names.length, `${kind} names are unique`);
    for (const p of FILTER_PROPERTIES[kind]) {
      assert.deepEqual(p.path, p.name.split('/'));
      for (const segment of p.path) assert.match(segment, /^[A-Za-z][A-Za-z0-9]*$/, `${kind}.${p.name}`);
      if (p.operators.includes('startswith')) assert.equal(p.type, 'string', `${kind}.${p.name}`);
      if (p.type === 'enum' || p.type === 'bool') assert.ok(p.operators.every((op) => op === 'eq' || op === 'ne'));
      for (const value of p.values ?? []) assert.equal(value, value.toLowerCase());
    }
  }
});

test('the evaluator: missing values fail every comparison but ne', () => {
  const task = { id: 'Task1', state: 'completed', executionInfo: { exitCode: 0, result: 'success' } };
  const running = { id: 'Task2', state: 'running', executionInfo: {} };
  const match = (text: string, doc: object) => matchesFilter(parseFilter(text, 'tasks'), doc);
  assert.equal(match("state eq 'Completed' and executionInfo/exitCode eq 0", task), true);
  assert.equal(match('executionInfo/exitCode ne 0', running), true);
  assert.equal(match('executionInfo/exitCode eq 0', running), false);
  assert.equal(match('executionInfo/exitCode ge -5', running), false);
  assert.equal(match('not (executionInfo/exitCode eq 0)', running), true);
  assert.equal(match("startswith(nodeInfo/nodeId,'')", running), false);
  assert.equal(match("startswith(id,'Task')", running), true);
  assert.equal(match("startswith(id,'task')", running), false);
});

// ---- Generators: random valid trees, printed and parsed again ----

const datetimeValue = fc
  .tuple(fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), fc.integer({ min: 0, max: 9999 }))
  .map(([date, ticks]) => `${date.toISOString().slice(0, 23)}${String(ticks).padStart(4, '0')}Z`);

function valueFor(p: FilterProperty): fc.Arbitrary<FilterValue> {
  switch (p.type) {
    case 'string':
      return fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom("'", "''", 'a b', '%_', ')')).map((value) => ({ type: 'string', value }));
    case 'enum':
      return (p.values ? fc.constantFrom(...p.values) : fc.stringMatching(/^[a-z0-9_]{0,10}$/)).map((value) => ({ type: 'enum', value }));
    case 'int':
      return fc.oneof(fc.integer(), fc.maxSafeInteger()).map((value) => ({ type: 'int', value }));
    case 'bool':
      return fc.boolean().map((value) => ({ type: 'bool', value }));
    case 'datetime':
      return datetimeValue.map((value) => ({ type: 'datetime', value }));
  }
}

function leafFor(p: FilterProperty): fc.Arbitrary<FilterNode> {
  const comparisons = COMPARISON_OPERATORS.filter((op) => p.operators.includes(op));
  const compare = comparisons.length
    ? fc.tuple(fc.constantFrom(...comparisons), valueFor(p)).map(([op, value]): FilterNode => ({ kind: 'compare', property: p, op, value }))
    : undefined;
  const starts = p.operators.includes('startswith')
    ? fc.string({ unit: 'binary', maxLength: 6 }).map((prefix): FilterNode => ({ kind: 'startswith', property: p, prefix }))
    : undefined;
  return fc.oneof(...[compare, starts].filter((arb): arb is fc.Arbitrary<FilterNode> => arb !== undefined));
}

function treeFor(kind: FilterListKind): fc.Arbitrary<FilterNode> {
  const leaf = fc.constantFrom(...FILTER_PROPERTIES[kind]).chain(leafFor);
  return fc.letrec<{ node: FilterNode }>((tie) => ({
    node: fc.oneof(
      { maxDepth: 5, depthIdentifier: 'filter' },
      leaf,
      fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((operands): FilterNode => ({ kind: 'and', operands })),
      fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((operands): FilterNode => ({ kind: 'or', operands })),
      tie('node').map((operand): FilterNode => ({ kind: 'not', operand })),
    ),
  })).node;
}

const kindAndTree = fc.constantFrom(...KINDS).chain((kind) => treeFor(kind).map((tree) => ({ kind, tree })));

test('property: every valid tree prints to text that parses back to the same tree', () => {
  fc.assert(
    fc.property(kindAndTree, ({ kind, tree }) => {
      assert.deepEqual(parseFilter(printFilter(tree), kind), tree);
    }),
    { numRuns: 500 },
  );
});

/** Parsing either succeeds (and the result prints and re-parses) or throws Batch's error for that text. */
function parsesOrRefuses(text: string, kind: FilterListKind): void {
  let node: FilterNode;
  try {
    node = parseFilter(text, kind);
  } catch (error) {
    assert.ok(isBatchError(error), `not a BatchError: ${String(error)}`);
    assert.equal(error.code, 'InvalidQueryParameterValue');
    assert.equal(error.values[1]?.value, text);
    return;
  }
  assert.deepEqual(parseFilter(printFilter(node), kind), node);
  matchesFilter(node, { id: 'x', state: 'active', executionInfo: { exitCode: 1 } });
}

const TOKENS = [
  '(', ')', ',', ' ', "'", "''", 'and', 'or', 'not', 'eq', 'ne', 'gt', 'le', 'true', 'false', 'null', 'startswith', 'datetime',
  "datetime'2024-01-01T00:00:00Z'", "'active'", "'x'", '-', '-1', '0', '99999999999999999999', 'id', 'state', 'name', 'poolId',
  'executionInfo/exitCode', 'creationTime', 'enableAutoScale', 'isDedicated', '/', '\u{1F600}', '\uD800', '\t', '.',
];

test('property: arbitrary text never throws anything but InvalidQueryParameterValue', () => {
  const kind = fc.constantFrom(...KINDS);
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 80 }), kind, parsesOrRefuses), { numRuns: 1000 });
  const tokenSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((parts) => parts.join(''));
  const spacedSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((parts) => parts.join(' '));
  fc.assert(fc.property(fc.oneof(tokenSoup, spacedSoup), kind, parsesOrRefuses), { numRuns: 2000 });
});

type Mutation = { op: 'delete' | 'insert' | 'replace' | 'duplicate'; at: number; length: number; text: string };

function mutate(text: string, mutations: Mutation[]): string {
  let result = text;
  for (const { op, at, length, text: snippet } of mutations) {
    const i = result.length === 0 ? 0 : at % (result.length + 1);
    if (op === 'delete') result = result.slice(0, i) + result.slice(i + length);
    else if (op === 'insert') result = result.slice(0, i) + snippet + result.slice(i);
    else if (op === 'replace') result = result.slice(0, i) + snippet + result.slice(i + snippet.length);
    else result = result.slice(0, i) + result.slice(i, i + length) + result.slice(i);
  }
  return result;
}

test('property: random mutations of valid filters never throw anything but InvalidQueryParameterValue', () => {
  const mutation = fc.record({
    op: fc.constantFrom<Mutation['op']>('delete', 'insert', 'replace', 'duplicate'),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 8 }),
    text: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ unit: 'binary', maxLength: 3 })),
  });
  fc.assert(
    fc.property(kindAndTree, fc.array(mutation, { minLength: 1, maxLength: 4 }), ({ kind, tree }, mutations) => {
      parsesOrRefuses(mutate(printFilter(tree), mutations), kind);
    }),
    { numRuns: 1000 },
  );
});
