import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  evaluateAutoScale,
  NODE_DEALLOCATION_OPTIONS,
  parseAutoScaleFormula,
  SAMPLE_VARIABLES,
  type AutoScaleInputs,
  type AutoScaleOutcome,
  type AutoScaleSample,
} from '../../src/core/autoscale/index.js';

const NOW = Date.parse('2024-03-04T10:00:00Z');
const CODES = new Set(['AutoScalingFormulaSyntaxError', 'AutoScaleFormulaTooLong', 'AutoScalingFormulaEvaluationError', 'InsufficientSampleData']);
const TIME_LIMIT_MS = 1500;

// Two hours of samples for every metric, with a gap, so every method has something to find.
const samples = Object.fromEntries(
  SAMPLE_VARIABLES.map((name, k) => [
    name,
    Array.from({ length: 240 }, (_, i): AutoScaleSample => ({ time: NOW - i * 30_000, value: (i * (k + 3)) % 17 })).filter((_, i) => i % 7 !== 3),
  ]),
);
const INPUTS: AutoScaleInputs = { now: NOW, targetDedicatedNodes: 3, targetLowPriorityNodes: 1, samples, values: { $CurrentDedicatedNodes: 3 } };

const SEEDS = [
  `startingNumberOfVMs = 1;
maxNumberofVMs = 25;
pendingTaskSamplePercent = $PendingTasks.GetSamplePercent(180 * TimeInterval_Second);
pendingTaskSamples = pendingTaskSamplePercent < 70 ? startingNumberOfVMs : avg($PendingTasks.GetSample(180 * TimeInterval_Second));
$TargetDedicatedNodes=min(maxNumberofVMs, pendingTaskSamples);
$NodeDeallocationOption = taskcompletion;`,
  `maxNumberofVMs = 25;
$TargetDedicatedNodes = min(maxNumberofVMs, $PreemptedNodeCount.GetSample(180 * TimeInterval_Second));
$TargetLowPriorityNodes = min(maxNumberofVMs , maxNumberofVMs - $TargetDedicatedNodes);`,
  `$curTime = time() + (-6 * TimeInterval_Hour);
$workHours = $curTime.hour >= 8 && $curTime.hour < 18;
$isWeekday = $curTime.weekday >= 1 && $curTime.weekday <= 5;
$TargetDedicatedNodes = $workHours && $isWeekday ? 20:10;`,
  `// Get pending tasks for the past 15 minutes.
$samples = $ActiveTasks.GetSamplePercent(TimeInterval_Minute * 15);
$tasks = $samples < 70 ? max(0,$ActiveTasks.GetSample(1)) : max( $ActiveTasks.GetSample(1),avg($ActiveTasks.GetSample(TimeInterval_Minute * 15)));
$cores = $TargetDedicatedNodes * 4;
$extraVMs = (($tasks - $cores) + 3) / 4;
$TargetDedicatedNodes = max(0,min($TargetDedicatedNodes + $extraVMs,3));`,
  `lifespan = time() - time("Mon, 04 Mar 2024 08:00:00 GMT");
span = TimeInterval_Minute * 60;
$TargetDedicatedNodes = (lifespan > TimeInterval_Minute * 10 ? (max($RunningTasks.GetSample(span, 50), $ActiveTasks.GetSample(span, 50)) == 0 ? 0 : $TargetDedicatedNodes) : 4);
v = lg($CPUPercent.GetSample(20), 2); p = percentile($CPUPercent.GetSample(TimeInterval_Hour), 90); r = val(v, 1) + std(v) + norm(v) + range(v) + len(v) + round(rand());`,
];

const VOCABULARY = [
  ' ', ';', '(', ')', ',', '.', '=', '==', '+', '-', '*', '/', '!', '?', ':', '<', '>=', '&&', '||', '"', '//', '\n', '0', '1', '70', '0.5',
  'x', '$x', 'avg(', 'min(', 'max(', 'lg(', 'time()', 'stop()', 'val(', 'percentile(', '.GetSample(', '.hour', '.GetSamplePercent(',
  '$CPUPercent', '$TargetDedicatedNodes', '$NodeDeallocationOption', 'requeue', 'TimeInterval_Minute', 'TimeInterval_Zero', '"2024-03-04"', '[', '%', '$',
];

type Mutation =
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'duplicate'; at: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...VOCABULARY), fc.string({ maxLength: 4, unit: 'binary' })) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
);

function mutate(text: string, mutations: Mutation[]): string {
  let out = text;
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % (out.length + 1);
    if (m.kind === 'delete') out = out.slice(0, at) + out.slice(at + m.length);
    else if (m.kind === 'insert') out = out.slice(0, at) + m.text + out.slice(at);
    else out = out.slice(0, at) + out.slice(at, at + m.length) + out.slice(at);
  }
  return out;
}

function checked(formula: string, inputs: AutoScaleInputs = INPUTS): AutoScaleOutcome {
  const started = performance.now();
  const outcome = evaluateAutoScale(formula, inputs);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < TIME_LIMIT_MS, `took ${elapsed.toFixed(0)} ms: ${JSON.stringify(formula.slice(0, 200))}`);
  if (outcome.ok) {
    for (const target of [outcome.targetDedicatedNodes, outcome.targetLowPriorityNodes]) assert.ok(Number.isSafeInteger(target) && target >= 0, `bad target ${target}`);
    assert.ok(NODE_DEALLOCATION_OPTIONS.includes(outcome.nodeDeallocationOption));
    assert.equal(outcome.results, outcome.variables.map((v) => `${v.name}=${v.value}`).join(';'));
    assert.match(outcome.results, /^\$TargetDedicatedNodes=\d+;\$TargetLowPriorityNodes=\d+;\$NodeDeallocationOption=[a-z]+(;|$)/);
  } else {
    assert.ok(CODES.has(outcome.error.code), outcome.error.code);
    assert.equal(typeof outcome.error.message, 'string');
    assert.equal(outcome.error.values[0]?.name, 'Message');
    assert.match(outcome.results, /^\$TargetDedicatedNodes=\d+;\$TargetLowPriorityNodes=\d+;\$NodeDeallocationOption=[a-z]+$/);
  }
  const parsed = parseAutoScaleFormula(formula);
  if (!parsed.ok) assert.deepEqual(outcome, { ok: false, error: parsed.error, results: outcome.results });
  return outcome;
}

test('every seed formula evaluates', () => {
  for (const seed of SEEDS) {
    const outcome = checked(seed);
    assert.ok(outcome.ok, JSON.stringify(!outcome.ok && outcome.error));
  }
});

test('random strings never throw and always answer within the time limit', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (formula) => {
      checked(formula);
    }),
    { numRuns: 500 },
  );
});

test('mutations of the docs\' formulas never throw and answer deterministically', () => {
  fc.assert(
    fc.property(fc.constantFrom(...SEEDS), fc.array(mutation, { minLength: 1, maxLength: 8 }), (seed, mutations) => {
      const formula = mutate(seed, mutations);
      assert.deepEqual(checked(formula), checked(formula));
    }),
    { numRuns: 600 },
  );
});

test('token soup never throws', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...VOCABULARY), { maxLength: 80 }), (tokens) => {
      checked(tokens.join(''));
    }),
    { numRuns: 500 },
  );
});

// Well-formed formulas of random shape: they parse, and evaluation either succeeds or names an error.
const { formula } = fc.letrec<{ expr: string; formula: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('0', '1', '2.5', '70', 'a', 'b', '$x', '$CPUPercent', '$TargetDedicatedNodes', 'rand()'),
    fc.constantFrom('"x"', 'requeue', 'TimeInterval_Minute', 'undefinedName'),
    fc.tuple(fc.constantFrom('-', '!'), tie('expr')).map(([op, e]) => `${op}${e}`),
    fc.tuple(tie('expr'), fc.constantFrom('+', '-', '*', '/', '<', '<=', '==', '!=', '>', '&&', '||'), tie('expr')).map(([l, op, r]) => `(${l} ${op} ${r})`),
    fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([c, t, e]) => `(${c} ? ${t} : ${e})`),
    fc.tuple(fc.constantFrom('avg', 'min', 'max', 'sum', 'len', 'lg', 'round', 'std', 'norm', 'range'), fc.array(tie('expr'), { minLength: 1, maxLength: 4 })).map(([f, args]) => `${f}(${args.join(', ')})`),
    fc.tuple(fc.constantFrom('val', 'percentile'), fc.constantFrom(...SAMPLE_VARIABLES), tie('expr')).map(([f, v, b]) => `${f}(${v}.GetSample(5), ${b})`),
    fc.tuple(fc.constantFrom(...SAMPLE_VARIABLES), tie('expr'), fc.option(tie('expr'))).map(
      ([v, a, pct]) => `${v}.GetSample(TimeInterval_Minute * ${a}${pct === null ? '' : `, ${pct}`})`,
    ),
    fc.tuple(fc.constantFrom(...SAMPLE_VARIABLES), tie('expr'), tie('expr')).map(([v, a, b]) => `${v}.GetSamplePercent(TimeInterval_Minute * ${a}, TimeInterval_Second * ${b})`),
    fc.tuple(fc.constantFrom(...SAMPLE_VARIABLES), tie('expr')).map(([v, a]) => `${v}.GetSample(${a})`),
    fc.tuple(tie('expr'), fc.constantFrom('hour', 'weekday', 'minute')).map(([e, m]) => `(time() + TimeInterval_Hour * ${e}).${m}`),
  ),
  formula: fc
    .array(fc.tuple(fc.constantFrom('a', 'b', '$x', '$TargetDedicatedNodes', '$TargetLowPriorityNodes', '$NodeDeallocationOption'), tie('expr')), { minLength: 1, maxLength: 6 })
    .map((statements) => ['a = 2; b = 3; $x = 1', ...statements.map(([name, e]) => `${name} = ${e}`)].join(';\n')),
}));

test('random well-formed formulas parse and evaluate to an outcome or an error', () => {
  const seen = new Map<string, number>();
  fc.assert(
    fc.property(formula, (text) => {
      const parsed = parseAutoScaleFormula(text);
      if (!parsed.ok && !/nests expressions|at most|TooLong/.test(JSON.stringify(parsed.error))) assert.fail(`${text}\n${JSON.stringify(parsed.error)}`);
      const outcome = checked(text);
      const key = outcome.ok ? 'ok' : outcome.error.code;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }),
    { numRuns: 400 },
  );
  // The generator reaches both ends: formulas that run and formulas that fail while running.
  assert.ok((seen.get('ok') ?? 0) > 20, JSON.stringify([...seen]));
  assert.ok((seen.get('AutoScalingFormulaEvaluationError') ?? 0) > 20, JSON.stringify([...seen]));
});

test('hostile formulas at the limits end with an error, quickly', () => {
  const longest = `v = $CPUPercent.GetSample(TimeInterval_Day); ${'w = lg(v, v, v, v, v, v, v, v, v, v); v = lg(w, w, w, w, w, w, w, w, w, w);'.repeat(60)}`.slice(0, 8192);
  const deep = `a = ${'('.repeat(4000)}1${')'.repeat(4000)}`;
  const chain = `a = ${'1*'.repeat(4095)}1`;
  const unary = `a = ${'-!'.repeat(4000)}1`;
  for (const hostile of [longest, deep, chain, unary, '"'.repeat(8192), '$'.repeat(8192), ';'.repeat(8192), 'a'.repeat(9000)]) {
    checked(hostile);
  }
});
