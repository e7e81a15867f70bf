import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  evaluateAutoScale,
  parseAutoScaleFormula,
  type AutoScaleInputs,
  type AutoScaleOutcome,
  type AutoScaleSample,
  type AutoScaleSuccess,
} from '../../src/core/autoscale/index.js';
import { DOCUMENTED_CPU_FORMULA } from '../fixtures/documented-cpu-formula.js';

// A Thursday, as in the docs' sample output.
const NOW = Date.parse('2016-10-13T19:18:47.805Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** One sample every 30 s for `minutes`, the newest `lagSeconds` before `now`. */
function history(minutes: number, value: number | ((i: number) => number), now = NOW, lagSeconds = 0): AutoScaleSample[] {
  const count = minutes * 2;
  return Array.from({ length: count }, (_, i) => ({
    time: now - lagSeconds * SECOND - (count - 1 - i) * 30 * SECOND,
    value: typeof value === 'number' ? value : value(i),
  }));
}

function ok(formula: string, inputs: Partial<AutoScaleInputs> = {}): AutoScaleSuccess {
  const outcome = evaluateAutoScale(formula, { now: NOW, ...inputs });
  if (!outcome.ok) assert.fail(`expected success, got ${JSON.stringify(outcome.error)}`);
  return outcome;
}

function failure(formula: string, inputs: Partial<AutoScaleInputs> = {}) {
  const outcome: AutoScaleOutcome = evaluateAutoScale(formula, { now: NOW, ...inputs });
  if (outcome.ok) assert.fail(`expected an error, got ${outcome.results}`);
  return { ...outcome.error, detail: outcome.error.values[0]?.value ?? '', results: outcome.results };
}

const value = (outcome: AutoScaleSuccess, name: string) => outcome.variables.find((v) => v.name === name)?.value;

describe('the docs\' sample formulas', () => {
  const pendingTasks = (max: number, deallocation = true) => `startingNumberOfVMs = 1;
maxNumberofVMs = ${max};
pendingTaskSamplePercent = $PendingTasks.GetSamplePercent(180 * TimeInterval_Second);
pendingTaskSamples = pendingTaskSamplePercent < 70 ? startingNumberOfVMs : avg($PendingTasks.GetSample(180 * TimeInterval_Second));
$TargetDedicatedNodes=min(maxNumberofVMs, pendingTaskSamples);
${deallocation ? '$NodeDeallocationOption = taskcompletion;' : ''}`;

  test('pending tasks: a full history of zeros gives the results string a real pool reported', () => {
    const outcome = ok(pendingTasks(2, false), { samples: { $PendingTasks: history(3, 0) } });
    assert.equal(
      outcome.results,
      '$TargetDedicatedNodes=0;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue;maxNumberofVMs=2;pendingTaskSamplePercent=100;pendingTaskSamples=0;startingNumberOfVMs=1',
    );
  });

  test('pending tasks: the average of the last 180 s, capped at 25', () => {
    const some = ok(pendingTasks(25), { samples: { $PendingTasks: history(3, (i) => 2 * i) } }); // 0 2 4 6 8 10
    assert.equal(some.targetDedicatedNodes, 5);
    assert.equal(some.nodeDeallocationOption, 'taskcompletion');
    const many = ok(pendingTasks(25), { samples: { $PendingTasks: history(3, 400) } });
    assert.equal(many.targetDedicatedNodes, 25);
  });

  test('pending tasks: under 70 % of the samples keeps the starting size', () => {
    const sparse = history(3, 40).filter((_, i) => i % 3 !== 0); // 4 of 6
    const outcome = ok(pendingTasks(25), { samples: { $PendingTasks: sparse } });
    assert.equal(value(outcome, 'pendingTaskSamplePercent'), String((4 / 6) * 100));
    assert.equal(outcome.targetDedicatedNodes, 1);
  });

  test('preempted nodes: every preemption moves a node from low priority to dedicated', () => {
    const formula = `maxNumberofVMs = 25;
$TargetDedicatedNodes = min(maxNumberofVMs, $PreemptedNodeCount.GetSample(180 * TimeInterval_Second));
$TargetLowPriorityNodes = min(maxNumberofVMs , maxNumberofVMs - $TargetDedicatedNodes);
$NodeDeallocationOption = taskcompletion;`;
    const outcome = ok(formula, { samples: { $PreemptedNodeCount: history(3, 3) } });
    assert.deepEqual([outcome.targetDedicatedNodes, outcome.targetLowPriorityNodes], [3, 22]);
  });

  const cpu = DOCUMENTED_CPU_FORMULA;

  test('CPU formula: 10 % more nodes when busy, 10 % fewer when idle, at most 400', () => {
    assert.equal(ok(cpu, { values: { $CurrentDedicatedNodes: 20 }, samples: { $CPUPercent: history(60, 0.9) } }).targetDedicatedNodes, 22);
    assert.equal(ok(cpu, { values: { $CurrentDedicatedNodes: 20 }, samples: { $CPUPercent: history(60, 0.1) } }).targetDedicatedNodes, 18);
    assert.equal(ok(cpu, { values: { $CurrentDedicatedNodes: 20 }, samples: { $CPUPercent: history(60, 0.5) } }).targetDedicatedNodes, 20);
    assert.equal(ok(cpu, { values: { $CurrentDedicatedNodes: 1000 }, samples: { $CPUPercent: history(60, 0.9) } }).targetDedicatedNodes, 400);
  });

  const workHours = `$curTime = time();
$workHours = $curTime.hour >= 8 && $curTime.hour < 18;
$isWeekday = $curTime.weekday >= 1 && $curTime.weekday <= 5;
$isWorkingWeekdayHour = $workHours && $isWeekday;
$TargetDedicatedNodes = $isWorkingWeekdayHour ? 20:10;`;

  test('time of day: the docs\' evaluation output, variable for variable', () => {
    assert.equal(
      ok(workHours).results,
      '$TargetDedicatedNodes=10;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue;$curTime=2016-10-13T19:18:47.805Z;$isWeekday=1;$isWorkingWeekdayHour=0;$workHours=0',
    );
  });

  test('time of day: 20 nodes in working hours on weekdays, 10 otherwise', () => {
    assert.equal(ok(workHours, { now: new Date('2016-10-10T09:30:00Z') }).targetDedicatedNodes, 20); // Monday
    assert.equal(ok(workHours, { now: new Date('2016-10-15T09:30:00Z') }).targetDedicatedNodes, 10); // Saturday
    assert.equal(ok(workHours + '\n$NodeDeallocationOption = taskcompletion;', { now: Date.parse('2016-10-14T17:59:59Z') }).nodeDeallocationOption, 'taskcompletion');
  });

  test('time of day: Mondays, the $TargetDedicated alias and a UTC offset', () => {
    assert.equal(ok('$TargetDedicatedNodes = (time().weekday == 1 ? 5:1);', { now: Date.parse('2016-10-10T00:00:00Z') }).targetDedicatedNodes, 5);
    assert.equal(ok('$TargetDedicatedNodes = (time().weekday == 1 ? 5:1);', { now: Date.parse('2016-10-09T23:00:00Z') }).targetDedicatedNodes, 1);
    const python = workHours.replace('$TargetDedicatedNodes', '$TargetDedicated');
    assert.equal(ok(python, { now: Date.parse('2016-10-10T09:30:00Z') }).targetDedicatedNodes, 20);
    // 07:00 UTC is 01:00 in MDT: outside working hours there.
    const mdt = workHours.replace('time();', 'time() + (-6 * TimeInterval_Hour);');
    assert.equal(ok(mdt, { now: Date.parse('2016-10-10T15:00:00Z') }).targetDedicatedNodes, 20);
    assert.equal(ok(mdt, { now: Date.parse('2016-10-10T07:00:00Z') }).targetDedicatedNodes, 10);
  });

  const taskBased = `// Get pending tasks for the past 15 minutes.
$samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 15);
// If we have fewer than 70 percent data points, we use the last sample point,
// otherwise we use the maximum of last sample point and the history average.
$tasks = $samples < 70 ? max(0,$PendingTasks.GetSample(1)) : max( $PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 15)));
// If number of pending tasks is not 0, set targetVM to pending tasks, otherwise
// half of current dedicated.
$targetVMs = $tasks > 0? $tasks:max(0, $TargetDedicatedNodes/2);
// The pool size is capped at 20, if target VM value is more than that, set it
// to 20. This value should be adjusted according to your use case.
$TargetDedicatedNodes = max(0, min($targetVMs, 20));
// Set node deallocation mode - let running tasks finish before removing a node
$NodeDeallocationOption = taskcompletion;`;

  test('task-based adjustment (with comments and line breaks)', () => {
    const rising = ok(taskBased, { samples: { $PendingTasks: history(15, (i) => (i === 29 ? 12 : 8)) } });
    assert.equal(rising.targetDedicatedNodes, 12);
    const flood = ok(taskBased, { samples: { $PendingTasks: history(15, 50) } });
    assert.equal(flood.targetDedicatedNodes, 20);
    const idle = ok(taskBased, { targetDedicatedNodes: 6 });
    assert.equal(value(idle, '$tasks'), '0');
    assert.equal(idle.targetDedicatedNodes, 3);
    assert.equal(idle.nodeDeallocationOption, 'taskcompletion');
  });

  test('parallel tasks: fractional targets are truncated', () => {
    const formula = `$samples = $ActiveTasks.GetSamplePercent(TimeInterval_Minute * 15);
$tasks = $samples < 70 ? max(0,$ActiveTasks.GetSample(1)) : max( $ActiveTasks.GetSample(1),avg($ActiveTasks.GetSample(TimeInterval_Minute * 15)));
$cores = $TargetDedicatedNodes * 4;
$extraVMs = (($tasks - $cores) + 3) / 4;
$targetVMs = ($TargetDedicatedNodes + $extraVMs);
$TargetDedicatedNodes = max(0,min($targetVMs,3));
$NodeDeallocationOption = taskcompletion;`;
    const outcome = ok(formula, { targetDedicatedNodes: 1, samples: { $ActiveTasks: history(15, 6) } });
    assert.equal(value(outcome, '$extraVMs'), '1.25');
    assert.equal(value(outcome, '$targetVMs'), '2.25');
    assert.equal(outcome.targetDedicatedNodes, 2);
    assert.match(outcome.results, /^\$TargetDedicatedNodes=2;/);
  });

  const START = Date.parse('2016-10-13T19:00:00Z');
  const initialSize = `
    $TargetDedicatedNodes = 4;
    lifespan         = time() - time("${new Date(START).toUTCString()}");
    span             = TimeInterval_Minute * 60;
    startup          = TimeInterval_Minute * 10;
    ratio            = 50;

    $TargetDedicatedNodes = (lifespan > startup ? (max($RunningTasks.GetSample(span, ratio), $ActiveTasks.GetSample(span, ratio)) == 0 ? 0 : $TargetDedicatedNodes) : 4);
    `;

  test('initial pool size: four nodes for ten minutes, then none once the tasks are gone', () => {
    assert.equal(ok(initialSize, { now: START + 5 * MINUTE }).targetDedicatedNodes, 4);
    const later = START + 120 * MINUTE;
    const idle = { $RunningTasks: history(60, 0, later), $ActiveTasks: history(60, 0, later) };
    assert.equal(ok(initialSize, { now: later, samples: idle }).targetDedicatedNodes, 0);
    const busy = { $RunningTasks: history(60, 0, later), $ActiveTasks: history(60, 3, later) };
    const outcome = ok(initialSize, { now: later, samples: busy });
    assert.equal(outcome.targetDedicatedNodes, 4);
    assert.equal(value(outcome, 'lifespan'), '02:00:00');
  });

  test('initial pool size: too few samples is InsufficientSampleData at the call', () => {
    const later = START + 120 * MINUTE;
    const sparse = history(60, 0, later).filter((_, i) => i % 5 < 2); // 40 %
    const error = failure(initialSize, { now: later, targetDedicatedNodes: 7, samples: { $RunningTasks: sparse, $ActiveTasks: history(60, 0, later) } });
    assert.equal(error.code, 'InsufficientSampleData');
    assert.equal(error.message, 'Autoscale evaluation failed due to insufficient sample data');
    const line = initialSize.split('\n')[7] as string;
    const column = line.indexOf('GetSample(') + 'GetSample'.length + 1;
    assert.equal(error.detail, `Line 8, Col ${column}: Insufficient data from data set: $RunningTasks wanted 50%, received 40%`);
    assert.equal(error.results, '$TargetDedicatedNodes=7;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue');
  });
});

describe('what the SDKs\' tests and Batch\'s examples show', () => {
  test('evaluateAutoScale of a plain target', () => {
    assert.equal(ok('$TargetDedicatedNodes=3').results, '$TargetDedicatedNodes=3;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue');
  });

  test('an undefined variable fails evaluation and reports the unchanged targets', () => {
    const error = failure('$something_useless', { targetDedicatedNodes: 2 });
    assert.equal(error.code, 'AutoScalingFormulaEvaluationError');
    assert.equal(error.results, '$TargetDedicatedNodes=2;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue');
    assert.match(error.detail, /^Line 1, Col 1: .*\$something_useless/);
  });

  test('a window with too few samples and a required percent (the .NET client test\'s error)', () => {
    const error = failure('$RunningTasks.GetSample(10 * TimeInterval_Second, 0 * TimeInterval_Second, 100);');
    assert.deepEqual(
      { code: error.code, message: error.message, values: error.values },
      {
        code: 'InsufficientSampleData',
        message: 'Autoscale evaluation failed due to insufficient sample data',
        values: [{ name: 'Message', value: 'Line 1, Col 24: Insufficient data from data set: $RunningTasks wanted 100%, received 0%' }],
      },
    );
  });

  test('a sample count returns what is there, even on a new pool', () => {
    assert.equal(value(ok('myActiveSamples=$ActiveTasks.GetSample(5);'), 'myActiveSamples'), '[]');
    const two = ok('myActiveSamples=$ActiveTasks.GetSample(5);', { samples: { $ActiveTasks: history(1, (i) => i + 1) } });
    assert.equal(value(two, 'myActiveSamples'), '[1,2]');
  });

  test('the docs\' 10-minute window: 18 of 20 samples pass at 80 % and fail at 95 %', () => {
    const samples = { $CPUPercent: history(9, 50, NOW, 60) };
    assert.equal(value(ok('s = $CPUPercent.GetSample(TimeInterval_Minute * 10);', { samples }), 's'), `[${Array(18).fill(50).join(',')}]`);
    assert.equal(ok('s = $CPUPercent.GetSample(TimeInterval_Minute * 10, 80);', { samples }).ok, true);
    const error = failure('s = $CPUPercent.GetSample(TimeInterval_Minute * 10, 95);', { samples });
    assert.match(error.detail, /wanted 95%, received 90%$/);
  });

  test('GetSample(look-back start, look-back end) as the docs write it', () => {
    const outcome = ok('$runningTasksSample = $RunningTasks.GetSample(1 * TimeInterval_Minute, 6 * TimeInterval_Minute);', {
      samples: { $RunningTasks: history(10, 1) },
    });
    assert.equal(value(outcome, '$runningTasksSample'), '[1,1,1,1,1,1,1,1,1,1]');
    const stamps = ok('v = $RunningTasks.GetSample(time() + (-6 * TimeInterval_Minute), time() + (-1 * TimeInterval_Minute), 75);', {
      samples: { $RunningTasks: history(10, 1) },
    });
    assert.equal(value(stamps, 'v'), value(outcome, '$runningTasksSample'));
  });
});

describe('syntax errors name the place', () => {
  const syntax = (formula: string) => {
    const parsed = parseAutoScaleFormula(formula);
    if (parsed.ok) assert.fail(`expected ${formula} not to parse`);
    assert.equal(parsed.error.code, 'AutoScalingFormulaSyntaxError');
    assert.equal(parsed.error.message, 'The specified auto-scaling formula has a syntax error.');
    return parsed.error.values[0]?.value;
  };

  test('an unexpected token, on the right line and column', () => {
    assert.equal(syntax('a = 1;\nb = a +* 2;'), "Line 2, Col 8: Unexpected '*'");
    assert.equal(syntax('$TargetDedicatedNodes = min(1, ;'), "Line 1, Col 32: Unexpected ';'");
    assert.equal(syntax('$TargetDedicatedNodes = 1 +'), 'Line 1, Col 28: Unexpected end of formula');
    assert.equal(syntax('a = 1 b = 2'), "Line 1, Col 7: Expected ';' between statements, found 'b'");
    assert.equal(syntax('a = (1 + 2'), "Line 1, Col 11: Expected ')', found the end of the formula");
    assert.equal(syntax('a = 1 ? 2'), "Line 1, Col 10: Expected ':' in a conditional expression, found the end of the formula");
  });

  test('characters, strings and literals outside the language', () => {
    assert.equal(syntax('a = 5 % 2;'), 'Line 1, Col 7: Unexpected character "%"');
    assert.equal(syntax('a = "open;\nb = 1'), 'Line 1, Col 5: Unterminated string literal');
    assert.equal(syntax('a = [1, 2];'), 'Line 1, Col 5: Unexpected character "["');
    assert.equal(syntax('/* no */ a = 1'), "Line 1, Col 1: Unexpected '/'");
  });

  test('unknown functions and methods, wrong argument counts', () => {
    assert.equal(syntax('a = sqrt(4);'), "Line 1, Col 5: Unknown function 'sqrt'");
    assert.equal(syntax('a = $CPUPercent.GetAverage(1);'), "Line 1, Col 17: Unknown method 'GetAverage'");
    assert.equal(syntax('a = val(1);'), "Line 1, Col 5: 'val' takes 2 arguments, not 1");
    assert.equal(syntax('a = rand(1);'), "Line 1, Col 5: 'rand' takes 0 arguments, not 1");
    assert.equal(syntax('b = 1; a = b.GetSample(1);'), "Line 1, Col 14: Method 'GetSample' can only be called on a read-only service variable such as $CPUPercent");
  });

  test('read-only variables and constants cannot be assigned', () => {
    assert.equal(syntax('$CPUPercent = 5;'), 'Line 1, Col 1: Cannot assign to the read-only variable $CPUPercent');
    assert.equal(syntax('TimeInterval_Second = 5;'), 'Line 1, Col 1: Cannot assign to the constant TimeInterval_Second');
  });

  test('limits: 8192 characters, 100 statements, bounded nesting, something to run', () => {
    const long = parseAutoScaleFormula(`a = 1;${' '.repeat(8200)}`);
    assert.equal(!long.ok && long.error.code, 'AutoScaleFormulaTooLong');
    assert.ok(parseAutoScaleFormula(`$TargetDedicatedNodes = 1;${' '.repeat(8192 - 26)}`).ok);
    assert.ok(parseAutoScaleFormula(Array.from({ length: 100 }, (_, i) => `a${i} = ${i}`).join(';')).ok);
    assert.match(syntax(Array.from({ length: 101 }, (_, i) => `a${i} = ${i}`).join(';')) ?? '', /at most 100 statements/);
    assert.match(syntax(`a = ${'('.repeat(70)}1${')'.repeat(70)}`) ?? '', /nests expressions more than 64 deep/);
    assert.match(syntax(`a = ${'-'.repeat(70)}1`) ?? '', /nests expressions/);
    assert.match(syntax('  // only a comment\n;;') ?? '', /no statements/);
  });

  test('comments, empty statements and a missing last semicolon are fine', () => {
    const outcome = ok('// set it\n;; $TargetDedicatedNodes = 2; // two\n$TargetLowPriorityNodes = 1');
    assert.deepEqual([outcome.targetDedicatedNodes, outcome.targetLowPriorityNodes], [2, 1]);
  });
});

describe('type errors name the operator and the place', () => {
  const detail = (formula: string, inputs: Partial<AutoScaleInputs> = {}) => {
    const error = failure(formula, inputs);
    assert.equal(error.code, 'AutoScalingFormulaEvaluationError');
    return error.detail;
  };

  test('operators outside the docs\' table', () => {
    assert.equal(detail('$TargetDedicatedNodes = "a" + 1;'), "Line 1, Col 29: Operator '+' cannot be applied to string and double");
    assert.equal(detail('v = $CPUPercent.GetSample(3);\nw = 2 * v;'), "Line 2, Col 7: Operator '*' cannot be applied to double and doubleVec");
    assert.equal(detail('t = time() - TimeInterval_Hour;'), "Line 1, Col 12: Operator '-' cannot be applied to timestamp and timeinterval");
    assert.equal(detail('a = TimeInterval_Hour < 3;'), "Line 1, Col 23: Operator '<' cannot be applied to timeinterval and double");
    assert.equal(detail('a = !TimeInterval_Hour;'), "Line 1, Col 5: Operator '!' cannot be applied to timeinterval");
    assert.equal(detail('a = "x" ? 1 : 2;'), "Line 1, Col 9: The condition of '?:' must be a double, not a string");
  });

  test('vectors of different lengths, bad arguments, bad members', () => {
    const samples = { $CPUPercent: history(2, 1), $ActiveTasks: history(1, 1) };
    assert.match(detail('a = $CPUPercent.GetSample(4) + $ActiveTasks.GetSample(4);', { samples }), /^Line 1, Col 30: .*equal length, not 4 and 2/);
    assert.equal(detail('a = avg("x");'), "Line 1, Col 8: 'avg' takes doubles and doubleVecs, not a string (argument 1)");
    assert.equal(detail('a = avg($CPUPercent.GetSample(1));'), "Line 1, Col 8: 'avg' of an empty list");
    assert.equal(detail('a = time().hours;'), "Line 1, Col 12: A timestamp has no member 'hours'");
    assert.equal(detail('a = (1).hour;'), "Line 1, Col 9: A double has no member 'hour'");
    assert.match(detail('a = time("yesterday");'), /^Line 1, Col 9: 'yesterday' is not a W3C-DTF or RFC 1123/);
    assert.match(detail('a = $CPUPercent.GetSample("x");'), /^Line 1, Col 26: 'GetSample' takes a timestamp or a timeinterval here, not a string/);
  });

  test('targets must be doubles, whole-number-able and not negative', () => {
    assert.equal(detail('$TargetDedicatedNodes = TimeInterval_Hour;'), 'Line 1, Col 1: $TargetDedicatedNodes must be a double, not a timeinterval');
    assert.equal(detail('x = 1;\n$TargetLowPriorityNodes = x - 3;'), 'Line 2, Col 1: $TargetLowPriorityNodes must be a finite number that is not negative, not -2');
    assert.match(detail('$TargetDedicatedNodes = 1 / 0;'), /not Infinity$/);
    assert.match(detail('$NodeDeallocationOption = "sometimes";'), /must be one of requeue, terminate, taskcompletion, retaineddata, not 'sometimes'$/);
    assert.equal(ok('$TargetDedicatedNodes = -0.5;').targetDedicatedNodes, 0);
    assert.equal(ok('$TargetDedicatedNodes = 2.99;').targetDedicatedNodes, 2);
  });
});

describe('the language', () => {
  test('arithmetic, precedence and the conditional', () => {
    const outcome = ok('a = 1 + 2 * 3 - 4 / 2; b = -(1 + 2); c = 1 < 2 == 1; d = 1 ? 2 : 0 ? 3 : 4; e = !0 + !5; f = 0.1 + 0.2; g = 10 / 4');
    assert.deepEqual(
      outcome.variables.slice(3).map((v) => `${v.name}=${v.value}`),
      ['a=5', 'b=-3', 'c=1', 'd=2', 'e=1', 'f=0.30000000000000004', 'g=2.5'],
    );
  });

  test('&&, || and ?: evaluate only what they need', () => {
    const outcome = ok('a = 0 && undefinedThing; b = 1 || undefinedThing; c = 1 ? 5 : $CPUPercent.GetSample(TimeInterval_Minute, 100); d = 2 && 3; e = 0 || 0');
    assert.deepEqual(outcome.variables.slice(3).map((v) => v.value), ['0', '1', '5', '1', '0']);
  });

  test('vectors element-wise, with doubles and with vectors', () => {
    const samples = { $CPUPercent: history(1, (i) => i + 1) }; // [1,2]
    const outcome = ok('v = $CPUPercent.GetSample(2); a = v * 10; b = v + v; c = v - 1; d = v / 2', { samples });
    assert.deepEqual(outcome.variables.slice(3, 7).map((v) => v.value), ['[10,20]', '[2,4]', '[0,1]', '[0.5,1]']);
  });

  test('time intervals and timestamps', () => {
    const outcome = ok(`a = TimeInterval_Minute * 90 + TimeInterval_Day;
b = 2 * TimeInterval_Second - TimeInterval_Millisecond;
c = -TimeInterval_Hour;
d = time("2016-10-13T19:18:47Z") + TimeInterval_Week;
e = time() - time("Thu, 13 Oct 2016 19:18:47 GMT");
f = TimeInterval_Hour / 4;
g = TimeInterval_100ns * 3;
h = time("2016-10-13") < time();
i = "abc" < "abd";
j = time("2016-10-13T21:18:47+02:00") == time("2016-10-13T19:18:47Z")`);
    assert.deepEqual(Object.fromEntries(outcome.variables.slice(3).map((v) => [v.name, v.value])), {
      a: '1.01:30:00',
      b: '00:00:01.9990000',
      c: '-01:00:00',
      d: '2016-10-20T19:18:47.000Z',
      e: '00:00:00.8050000',
      f: '00:15:00',
      g: '00:00:00.0000003',
      h: '1',
      i: '1',
      j: '1',
    });
  });

  test('timestamp members', () => {
    const outcome = ok('t = time("2024-02-29T13:05:09Z"); y = t.year; mo = t.month; d = t.day; w = t.weekday; h = t.hour; mi = t.minute; s = t.second');
    assert.deepEqual(outcome.variables.slice(3).map((v) => `${v.name}=${v.value}`), ['d=29', 'h=13', 'mi=5', 'mo=2', 's=9', 't=2024-02-29T13:05:09.000Z', 'w=4', 'y=2024']);
  });

  test('the functions, on lists of doubles and vectors', () => {
    const samples = { $CPUPercent: history(2, (i) => [4, 1, 3, 2][i] as number) };
    const outcome = ok(
      `v = $CPUPercent.GetSample(4);
avg1 = avg(v, 5); len1 = len(v, 1, v); sum1 = sum(v); min1 = min(v, 0); max1 = max(v); range1 = range(v);
norm1 = norm(3, 4); std1 = std(2, 4, 4, 4, 5, 5, 7, 9); std2 = std(3);
p50 = percentile(v, 50); p100 = percentile(v, 100); p0 = percentile(v, 0); val1 = val(v, 2);
lg1 = lg(8); lgv = lg(v); ln1 = ln(1); log1 = log(1000); logl = log(10, 100);
c1 = ceil(1.2); f1 = floor(-1.2); r1 = round(2.5); r2 = round(3.5); r3 = round(-2.5); rv = round(v / 2)`,
      { samples },
    );
    const got = Object.fromEntries(outcome.variables.map((v) => [v.name, v.value]));
    assert.deepEqual(
      [got.avg1, got.len1, got.sum1, got.min1, got.max1, got.range1, got.norm1, got.std1, got.std2],
      ['3', '9', '10', '0', '4', '3', '5', '2.138089935299395', '0'],
    );
    assert.deepEqual([got.p50, got.p100, got.p0, got.val1], ['2', '4', '1', '3']);
    assert.deepEqual([got.lg1, got.lgv, got.ln1, got.log1, got.logl], ['3', '[2,0,1.584962500721156,1]', '0', '3', '[1,2]']);
    assert.deepEqual([got.c1, got.f1, got.r1, got.r2, got.r3, got.rv], ['2', '-2', '2', '4', '-2', '[2,0,2,1]']);
  });

  test('val and percentile refuse what is outside the vector', () => {
    assert.match(failure('v = $CPUPercent.GetSample(3); x = val(v, 0)').detail, /Index 0 is outside the vector of 0 elements/);
    assert.match(failure('x = percentile($CPUPercent.GetSample(3), 101)').detail, /between 0 and 100/);
  });

  test('rand() uses the injected source, and the default one is a function of now', () => {
    const fixed = ok('r = rand(); $TargetDedicatedNodes = r * 10', { random: () => 0.42 });
    assert.equal(value(fixed, 'r'), '0.42');
    assert.equal(fixed.targetDedicatedNodes, 4);
    assert.equal(ok('r = rand()').results, ok('r = rand()').results);
    const r = Number(value(ok('r = rand()'), 'r'));
    assert.ok(r >= 0 && r < 1);
  });

  test('stop() ends the formula with what was assigned so far', () => {
    const outcome = ok('$TargetDedicatedNodes = 3; a = 1; stop(); $TargetDedicatedNodes = 5; b = 2');
    assert.equal(outcome.targetDedicatedNodes, 3);
    assert.equal(outcome.results, '$TargetDedicatedNodes=3;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue;a=1');
    assert.equal(ok('$TargetDedicatedNodes = 3; x = 0 ? stop() : 1; $TargetDedicatedNodes = 4').targetDedicatedNodes, 4);
  });

  test('service variables: aliases, any letter case, current values and reading the targets', () => {
    assert.equal(ok('$TargetDedicated = 3').targetDedicatedNodes, 3);
    assert.equal(ok('$TargetDedicatedNodes = 4; $TargetDedicated = 3').targetDedicatedNodes, 4);
    assert.equal(ok('$TargetLowPriority = 6').targetLowPriorityNodes, 6);
    assert.equal(ok('$targetdedicatednodes = 5').results, '$TargetDedicatedNodes=5;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue');
    assert.equal(ok('$TargetDedicatedNodes = $CurrentDedicatedNodes + $TaskSlotsPerNode', { values: { $CurrentDedicatedNodes: 3, $TaskSlotsPerNode: 4 } }).targetDedicatedNodes, 7);
    assert.equal(ok('$TargetDedicatedNodes = $PendingTasks', { samples: { $PendingTasks: history(1, (i) => i + 8) } }).targetDedicatedNodes, 9);
    assert.equal(ok('$TargetDedicatedNodes = $TargetDedicatedNodes + 1', { targetDedicatedNodes: 2 }).targetDedicatedNodes, 3);
    const kept = ok('x = $NodeDeallocationOption', { nodeDeallocationOption: 'retaineddata' });
    assert.equal(kept.results, '$TargetDedicatedNodes=0;$TargetLowPriorityNodes=0;$NodeDeallocationOption=retaineddata;x=retaineddata');
    assert.equal(ok('$NodeDeallocationOption = "terminate"').nodeDeallocationOption, 'terminate');
  });

  test('sample methods: period, count, history start and percent', () => {
    const samples = { $DiskReadOps: history(2, 1, NOW, 60) };
    const outcome = ok(
      'p = $DiskReadOps.GetSamplePeriod(); n = $DiskReadOps.Count(); t = $DiskReadOps.HistoryBeginTime(); q = $DiskReadOps.GetSamplePercent(TimeInterval_Minute * 3); z = $DiskReadOps.GetSamplePercent(TimeInterval_Minute * 3, TimeInterval_Minute)',
      { samples },
    );
    const got = Object.fromEntries(outcome.variables.map((v) => [v.name, v.value]));
    assert.deepEqual(got, { ...got, p: '00:00:30', n: '4', t: new Date(NOW - 150 * SECOND).toISOString(), q: String((4 / 6) * 100), z: '100' });
    assert.equal(failure('t = $DiskWriteOps.HistoryBeginTime()').code, 'InsufficientSampleData');
  });

  test('samples after now are not available yet; a custom period changes the percentages', () => {
    const future = [...history(3, 1), { time: NOW + 30 * SECOND, value: 99 }];
    assert.equal(value(ok('v = $CPUPercent.GetSample(10)', { samples: { $CPUPercent: future } }), 'v'), '[1,1,1,1,1,1]');
    assert.equal(value(ok('q = $CPUPercent.GetSamplePercent(TimeInterval_Minute * 3)', { samples: { $CPUPercent: history(3, 1) }, samplePeriodMs: 15 * SECOND }), 'q'), '50');
  });

  test('a parsed program can be evaluated again with other inputs', () => {
    const parsed = parseAutoScaleFormula('$TargetDedicatedNodes = max(0, $ActiveTasks.GetSample(1))');
    assert.ok(parsed.ok);
    assert.equal((evaluateAutoScale(parsed.program, { now: NOW }) as AutoScaleSuccess).targetDedicatedNodes, 0);
    assert.equal((evaluateAutoScale(parsed.program, { now: NOW, samples: { $ActiveTasks: history(1, 6) } }) as AutoScaleSuccess).targetDedicatedNodes, 6);
  });

  test('double formatting follows .NET for very large and very small values', () => {
    const outcome = ok('a = 1000000000000000; b = 0.00001; c = 0.0001; d = 123456789012345; e = 0 - 0.000001');
    assert.deepEqual(outcome.variables.slice(3).map((v) => v.value), ['1E+15', '1E-05', '0.0001', '123456789012345', '-1E-06']);
  });
});

describe('bounded work', () => {
  test('a formula that multiplies vectors stops at the work limit with an error', () => {
    const samples = { $CPUPercent: history(24 * 60, 1) }; // 2880 samples
    const formula = ['v = $CPUPercent.GetSample(TimeInterval_Day)', ...Array.from({ length: 40 }, () => 'v = lg(v, v, v, v, v, v, v, v) + 1')].join(';');
    const started = performance.now();
    const error = failure(formula, { samples });
    assert.equal(error.code, 'AutoScalingFormulaEvaluationError');
    assert.match(error.detail, /at most 50000 elements|work limit/);
    assert.ok(performance.now() - started < 2000);
  });

  test('long flat expressions evaluate without deep recursion', () => {
    const terms = Array(4000).fill('1').join('+');
    assert.equal(ok(`$TargetDedicatedNodes = ${terms}`).targetDedicatedNodes, 4000);
    assert.match(failure(`a = time()${'.hour'.repeat(100)}`).code, /AutoScalingFormulaSyntaxError/);
  });

  test('bad inputs are answered, not thrown', () => {
    const outcome = evaluateAutoScale('$TargetDedicatedNodes = 1', { now: Number.NaN });
    assert.equal(outcome.ok, false);
    const odd = evaluateAutoScale('$TargetDedicatedNodes = $CPUPercent + 1', {
      now: NOW,
      targetDedicatedNodes: -4,
      nodeDeallocationOption: 'sometimes' as never,
      samplePeriodMs: -1,
      samples: { $CPUPercent: [{ time: Number.NaN, value: 3 }, { time: NOW, value: Number.POSITIVE_INFINITY }, { time: NOW - 1, value: 2 }] },
    });
    assert.ok(odd.ok);
    assert.equal(odd.targetDedicatedNodes, 3);
    assert.equal(evaluateAutoScale(42 as never, { now: NOW }).ok, false);
  });
});
