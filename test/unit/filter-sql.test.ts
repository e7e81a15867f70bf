import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { COMPARISON_OPERATORS, type FilterNode, type FilterProperty, type FilterValue } from '../../src/core/odata/filter-ast.js';
import { matchesFilter } from '../../src/core/odata/filter-eval.js';
import { FILTER_MAX_LENGTH, parseFilter } from '../../src/core/odata/filter-parser.js';
import { FILTER_PROPERTIES, type FilterListKind } from '../../src/core/odata/filter-properties.js';
import { filterToSql, TASK_FILTER_COLUMNS, type FilterSqlOptions } from '../../src/store/sqlite/filter-sql.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations/index.js';

// The real schema, so the column map is tested against the real columns.
const db = new Database(':memory:');
for (const migration of MIGRATIONS) db.exec(migration.sql);
after(() => db.close());

const insertTask = db.prepare(
  "INSERT INTO tasks (account, job_key, job_id, key, state, result, node_id, exit_code, attempt, doc) VALUES ('acct', 'job', 'job', ?, ?, ?, ?, ?, 0, ?)",
);
const insertPool = db.prepare("INSERT INTO pools (account, key, doc) VALUES ('acct', ?, ?)");

type Doc = Record<string, unknown> & { state: string };

/**
 * Replaces the job's tasks with these documents, keyed t0, t1, …; the columns
 * hold what SqliteTasks would write: enums in their lower-case wire form,
 * which is the only form core writes (the documents may vary the case).
 */
function storeTasks(docs: Doc[]): void {
  db.transaction(() => {
    db.exec('DELETE FROM tasks');
    docs.forEach((doc, index) => {
      const execution = doc.executionInfo as Record<string, unknown> | null | undefined;
      const node = doc.nodeInfo as Record<string, unknown> | null | undefined;
      const result = typeof execution?.result === 'string' ? execution.result.toLowerCase() : (execution?.result ?? null);
      insertTask.run(`t${index}`, doc.state.toLowerCase(), result, node?.nodeId ?? null, execution?.exitCode ?? null, JSON.stringify(doc));
    });
  })();
}

function sqlKeys(filter: FilterNode, options: FilterSqlOptions = { columns: TASK_FILTER_COLUMNS }): string[] {
  const { sql, params } = filterToSql(filter, options);
  const rows = db.prepare(`SELECT key FROM tasks WHERE account = ? AND job_key = ? AND ${sql} ORDER BY seq`).all('acct', 'job', ...params);
  return (rows as { key: string }[]).map((row) => row.key);
}

const referenceKeys = (filter: FilterNode, docs: Doc[]) => docs.flatMap((doc, index) => (matchesFilter(filter, doc) ? [`t${index}`] : []));

/** Checks SQL (with and without the indexed columns) against the reference evaluator, and answers the keys. */
function keysFor(text: string, docs: Doc[]): string[] {
  storeTasks(docs);
  const filter = parseFilter(text, 'tasks');
  const expected = referenceKeys(filter, docs);
  assert.deepEqual(sqlKeys(filter), expected, `columns: ${text}`);
  assert.deepEqual(sqlKeys(filter, {}), expected, `json only: ${text}`);
  return expected;
}

test('enums compare without regard to case; strings keep it', () => {
  const docs: Doc[] = [
    { id: 'Task1', state: 'completed', executionInfo: { result: 'failure', exitCode: 2 } },
    { id: 'task2', state: 'active' },
    { id: 'Task3', state: 'running', nodeInfo: { nodeId: 'node-1' } },
  ];
  assert.deepEqual(keysFor("state eq 'Completed'", docs), ['t0']);
  assert.deepEqual(keysFor("state ne 'ACTIVE'", docs), ['t0', 't2']);
  assert.deepEqual(keysFor("executionInfo/result eq 'FAILURE'", docs), ['t0']);
  assert.deepEqual(keysFor("id eq 'task1'", docs), []);
  assert.deepEqual(keysFor("id ge 'Task2'", docs), ['t1', 't2']);
  assert.deepEqual(keysFor("nodeInfo/nodeId eq 'node-1'", docs), ['t2']);
});

test('strings order by code point, as SQLite orders UTF-8, not by UTF-16 unit', () => {
  const docs: Doc[] = ['\uFF61', '\u{10000}', 'z'].map((id) => ({ id, state: 'active' }));
  assert.deepEqual(keysFor("id gt '\uFFFF'", docs), ['t1']);
  assert.deepEqual(keysFor("id lt '\u{10000}'", docs), ['t0', 't2']);
});

test('a missing value fails every comparison except ne, also under not', () => {
  const docs: Doc[] = [
    { id: 'a', state: 'completed', executionInfo: { exitCode: 0, retryCount: 0 } },
    { id: 'b', state: 'completed', executionInfo: { exitCode: 3, retryCount: 1 } },
    { id: 'c', state: 'active', executionInfo: { retryCount: 0 } },
    { id: 'd', state: 'active', executionInfo: null },
    { id: 'e', state: 'active', executionInfo: { exitCode: null } },
  ];
  assert.deepEqual(keysFor("(state eq 'completed') and (executionInfo/exitCode ne 0)", docs), ['t1']);
  assert.deepEqual(keysFor('executionInfo/exitCode ne 0', docs), ['t1', 't2', 't3', 't4']);
  assert.deepEqual(keysFor('executionInfo/exitCode eq 0', docs), ['t0']);
  assert.deepEqual(keysFor('not (executionInfo/exitCode eq 0)', docs), ['t1', 't2', 't3', 't4']);
  assert.deepEqual(keysFor('executionInfo/exitCode ge -100', docs), ['t0', 't1']);
  assert.deepEqual(keysFor('not (executionInfo/exitCode ge -100)', docs), ['t2', 't3', 't4']);
  assert.deepEqual(keysFor('executionInfo/retryCount lt 1 or executionInfo/exitCode gt 2', docs), ['t0', 't1', 't2']);
});

test('datetimes order as instants whatever their fractional digits', () => {
  const times = [
    '2024-01-02T03:04:05Z',
    '2024-01-02T03:04:05.0000001Z',
    '2024-01-02T03:04:05.123Z',
    '2024-01-02T03:04:05.1230000Z',
    '2024-01-02T03:04:05.1230001Z',
    '2024-01-02T03:04:05.9999999Z',
    '2024-01-02T03:04:06.0000000Z',
  ];
  const docs: Doc[] = times.map((creationTime, index) => ({ id: `t${index}`, state: 'active', creationTime }));
  assert.deepEqual(keysFor("creationTime gt datetime'2024-01-02T03:04:05Z'", docs), ['t1', 't2', 't3', 't4', 't5', 't6']);
  assert.deepEqual(keysFor("creationTime eq datetime'2024-01-02T03:04:05.123Z'", docs), ['t2', 't3']);
  assert.deepEqual(keysFor("creationTime le datetime'2024-01-02T03:04:05.123'", docs), ['t0', 't1', 't2', 't3']);
  assert.deepEqual(keysFor("creationTime ge datetime'2024-01-02T05:04:05.9999999+02:00'", docs), ['t5', 't6']);
  assert.deepEqual(keysFor("creationTime lt datetime'2024-01-02T03:04:06'", docs), ['t0', 't1', 't2', 't3', 't4', 't5']);
  assert.deepEqual(keysFor("executionInfo/startTime lt datetime'9999-12-31T23:59:59Z'", docs), []);
});

test('startswith matches a literal prefix: no LIKE wildcards, case and code points kept', () => {
  const ids = ['100%_done', '100x', 'Task1', 'task2', 'émile', '\u{1F600}face', ''];
  const docs: Doc[] = ids.map((id) => ({ id, state: 'active' }));
  assert.deepEqual(keysFor("startswith(id,'100%')", docs), ['t0']);
  assert.deepEqual(keysFor("startswith(id,'100%_')", docs), ['t0']);
  assert.deepEqual(keysFor("startswith(id,'Task')", docs), ['t2']);
  assert.deepEqual(keysFor("startswith(id,'é')", docs), ['t4']);
  assert.deepEqual(keysFor("startswith(id,'\u{1F600}')", docs), ['t5']);
  assert.deepEqual(keysFor("startswith(id,'')", docs), ['t0', 't1', 't2', 't3', 't4', 't5', 't6']);
  assert.deepEqual(keysFor("startswith(displayName,'')", docs), []);
  assert.deepEqual(keysFor("not startswith(id,'1')", docs), ['t2', 't3', 't4', 't5', 't6']);
});

test('literals travel only as parameters', () => {
  const docs: Doc[] = [{ id: 'a', state: 'active' }, { id: "x' OR 1=1 --", state: 'active' }];
  const text = "id eq 'x'' OR 1=1 --' or displayName eq 'a''); DROP TABLE tasks; --'";
  assert.deepEqual(keysFor(text, docs), ['t1']);
  const { sql, params } = filterToSql(parseFilter(text, 'tasks'));
  assert.doesNotMatch(sql, /OR 1=1|DROP/);
  assert.deepEqual(params, ["x' OR 1=1 --", "a'); DROP TABLE tasks; --"]);
});

test('booleans and integers compare as JSON stores them', () => {
  const pools = [
    { id: 'p0', state: 'active', enableAutoScale: true, currentDedicatedNodes: 0, vmSize: 'STANDARD_D2s_v3' },
    { id: 'p1', state: 'active', enableAutoScale: false, currentDedicatedNodes: 3, vmSize: 'standard_d2s_v3' },
    { id: 'p2', state: 'deleting', currentDedicatedNodes: -1, vmSize: 'standard_a1' },
  ];
  db.exec('DELETE FROM pools');
  for (const pool of pools) insertPool.run(pool.id, JSON.stringify(pool));
  const check = (text: string, expected: string[]) => {
    const filter = parseFilter(text, 'pools');
    const { sql, params } = filterToSql(filter);
    const rows = db.prepare(`SELECT key FROM pools WHERE account = 'acct' AND ${sql} ORDER BY key`).all(...params) as { key: string }[];
    assert.deepEqual(rows.map((row) => row.key), expected, text);
    assert.deepEqual(pools.filter((pool) => matchesFilter(filter, pool)).map((pool) => pool.id), expected, `reference: ${text}`);
  };
  check('enableAutoScale eq true', ['p0']);
  check('enableAutoScale ne true', ['p1', 'p2']);
  check('enableAutoScale eq false', ['p1']);
  check('currentDedicatedNodes gt -1', ['p0', 'p1']);
  check("vmSize eq 'Standard_D2S_V3'", ['p0', 'p1']);
  check("state eq 'active' and not (enableAutoScale eq true)", ['p1']);
});

test('the longest filter the parser allows still runs in SQLite', () => {
  // SQLite refuses expression trees deeper than 1000; and/or chains are emitted balanced.
  const terms: string[] = [];
  while ((terms.length + 1) * 14 < FILTER_MAX_LENGTH) terms.push(`id eq '${terms.length % 10}'`);
  const text = terms.join(' or ');
  assert.ok(terms.length > 250 && text.length <= FILTER_MAX_LENGTH);
  assert.deepEqual(keysFor(text, [{ id: '7', state: 'active' }, { id: 'x', state: 'active' }]), ['t0']);
  const nested = `${'not ('.repeat(30)}id eq '7'${')'.repeat(30)}`;
  assert.deepEqual(keysFor(nested, [{ id: '7', state: 'active' }, { id: 'x', state: 'active' }]), ['t0']);
});

// ---- Property: the SQL translation agrees with the reference evaluator ----
// Values come from small pools so that random filters and random documents
// actually meet: equal strings, shared prefixes, the same instant written
// with 0, 3 and 7 fractional digits, code points on both sides of U+FFFF.

const STRINGS = ['', 'a', 'A', 'ab', 'abc', 'b', 'é', 'éa', 'E', '\u{10000}', '\u{10000}a', '\uFFFF', '\uFF61', '%', '_', "'", 'a%', 'node-1', 'Task10', 'Task9'];
const INTS = [-2, -1, 0, 1, 2, 3, 2147483647];
const INSTANTS = ['2023-12-31T23:59:59', '2024-01-02T03:04:05', '2024-01-02T03:04:06', '9999-12-31T23:59:59'];
const FRACTIONS = ['', '.1', '.123', '.1230000', '.1230001', '.9999999'];

const instant = fc.tuple(fc.constantFrom(...INSTANTS), fc.constantFrom(...FRACTIONS));
const storedTime = instant.map(([time, fraction]) => `${time}${fraction}Z`);
const literalTime = instant.map(([time, fraction]) => `${time}.${(fraction.slice(1) + '0000000').slice(0, 7)}Z`);

function mixedCase(values: readonly string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...values), fc.boolean()).map(([value, upper]) => (upper ? value.toUpperCase() : value));
}

function storedValue(p: FilterProperty): fc.Arbitrary<unknown> {
  switch (p.type) {
    case 'string':
      return fc.constantFrom(...STRINGS);
    case 'enum':
      return mixedCase(p.values ?? ['x']);
    case 'int':
      return fc.constantFrom(...INTS);
    case 'bool':
      return fc.boolean();
    case 'datetime':
      return storedTime;
  }
}

function literal(p: FilterProperty): fc.Arbitrary<FilterValue> {
  switch (p.type) {
    case 'string':
      return fc.constantFrom(...STRINGS).map((value) => ({ type: 'string', value }));
    case 'enum':
      return fc.constantFrom(...(p.values ?? ['x'])).map((value) => ({ type: 'enum', value }));
    case 'int':
      return fc.constantFrom(...INTS, -3, 4).map((value) => ({ type: 'int', value }));
    case 'bool':
      return fc.boolean().map((value) => ({ type: 'bool', value }));
    case 'datetime':
      return literalTime.map((value) => ({ type: 'datetime', value }));
  }
}

const TASK_PROPERTIES = FILTER_PROPERTIES.tasks;

/** A task document: each filterable property absent, null or drawn from its pool; state always set (its column is NOT NULL). */
const taskDoc: fc.Arbitrary<Doc> = fc
  .tuple(
    ...TASK_PROPERTIES.map((p) => (p.name === 'state' ? storedValue(p) : fc.oneof(fc.constant(undefined), fc.constant(null), storedValue(p)))),
    fc.constantFrom(undefined, null),
  )
  .map((values) => {
    const doc: Record<string, unknown> = {};
    TASK_PROPERTIES.forEach((p, index) => {
      const value = values[index];
      if (value === undefined) return;
      let parent = doc;
      for (const key of p.path.slice(0, -1)) parent = (parent[key] ??= {}) as Record<string, unknown>;
      parent[p.path[p.path.length - 1] as string] = value;
    });
    // Sometimes a whole sub-object is null rather than absent.
    const emptied = values[values.length - 1];
    if (emptied === null && doc.executionInfo === undefined) doc.executionInfo = null;
    return doc as Doc;
  });

function taskLeaf(p: FilterProperty): fc.Arbitrary<FilterNode> {
  const ops = COMPARISON_OPERATORS.filter((op) => p.operators.includes(op));
  const starts = fc.constantFrom(...STRINGS).map((prefix): FilterNode => ({ kind: 'startswith', property: p, prefix }));
  if (ops.length === 0) return starts;
  const compare = fc.tuple(fc.constantFrom(...ops), literal(p)).map(([op, value]): FilterNode => ({ kind: 'compare', property: p, op, value }));
  return p.operators.includes('startswith') ? fc.oneof(compare, starts) : compare;
}

const taskFilter = fc.letrec<{ node: FilterNode }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'sql-filter' },
    fc.constantFrom(...TASK_PROPERTIES).chain(taskLeaf),
    fc.array(tie('node'), { minLength: 2, maxLength: 4 }).map((operands): FilterNode => ({ kind: 'and', operands })),
    fc.array(tie('node'), { minLength: 2, maxLength: 4 }).map((operands): FilterNode => ({ kind: 'or', operands })),
    tie('node').map((operand): FilterNode => ({ kind: 'not', operand })),
  ),
})).node;

test('property: the SQL filter selects exactly the documents the reference evaluator accepts', () => {
  fc.assert(
    fc.property(fc.array(taskDoc, { minLength: 1, maxLength: 12 }), taskFilter, (docs, filter) => {
      storeTasks(docs);
      const expected = referenceKeys(filter, docs);
      assert.deepEqual(sqlKeys(filter), expected);
      assert.deepEqual(sqlKeys(filter, {}), expected);
    }),
    { numRuns: 400 },
  );
});

test('property: every list kind translates to SQL that SQLite accepts', () => {
  // Other lists have no table yet: run their filters against a document column of a scratch table.
  db.exec('CREATE TABLE IF NOT EXISTS scratch (doc TEXT NOT NULL)');
  const kinds = Object.keys(FILTER_PROPERTIES) as FilterListKind[];
  const anyFilter = fc.constantFrom(...kinds).chain((kind) =>
    fc
      .constantFrom(...FILTER_PROPERTIES[kind])
      .chain(taskLeaf)
      .map((node) => ({ kind, node })),
  );
  fc.assert(
    fc.property(anyFilter, ({ node }) => {
      const { sql, params } = filterToSql(node);
      db.prepare(`SELECT count(*) FROM scratch WHERE ${sql}`).get(...params);
    }),
    { numRuns: 300 },
  );
});
