#!/usr/bin/env node
// npm test's test run: the unit and integration test files through the Node
// test runner in two groups, one TAP stream.
//
// - Independent files run at once (--test-concurrency, LAPIS_TEST_CONCURRENCY
//   or the default below), each in its own process with its own server, data
//   directory, ports, OS accounts and control groups.
// - The files listed in SERIAL run after them, one at a time: they put the
//   machine under load and measure what happens, so nothing else may run
//   beside them.
//
// The two runs' TAP is printed as it comes, as one stream: the second run's
// top-level test numbers follow the first's, and the end carries one plan and
// one summary (`# tests`, `# pass`, `# fail`, ...) over both. The command fails
// when either run fails.
//
//   node scripts/test.mjs                  every file
//   node scripts/test.mjs test/unit/x.test.ts ...   only these (still grouped)

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

/**
 * Run alone, after the others: they put the machine under load (50 clients,
 * 200 tasks killed with the server) and report timings (docs/reliability.md)
 * that other files running beside them would distort.
 * (reliability-disk-full.test.ts fills tmpfs mounts of its own, not a shared
 * disk, and reports no timing it asserts: it runs with the others.)
 */
const SERIAL = new Set(['test/integration/reliability-load.test.ts', 'test/integration/reliability-crash.test.ts']);

// Test files mostly wait (on servers, processes and clients): more at once than cores.
const DEFAULT_CONCURRENCY = Math.max(2, Math.min(6, os.availableParallelism() * 2));
const concurrency = Number(process.env.LAPIS_TEST_CONCURRENCY ?? DEFAULT_CONCURRENCY);

function testFiles(directory) {
  return fs
    .readdirSync(directory)
    .filter((name) => name.endsWith('.test.ts'))
    .sort()
    .map((name) => path.posix.join(directory, name));
}

// The runner starts files in sorted order: test/integration/ (the long ones) before the short test/unit/ files, which fill the end.
const files = (process.argv.length > 2 ? process.argv.slice(2) : [...testFiles('test/integration'), ...testFiles('test/unit')]).map((file) => path.posix.normalize(file));
/**
 * Files of the concurrent group run several to a process (LAPIS_TEST_BUNDLES
 * processes, `concurrency` by default; 0 for one process a file): each test
 * process spends about 3 CPU-seconds loading the server through tsx, which on
 * 2 cores is a minute of the whole run when every file pays it. Files are
 * dealt out largest first to the lightest bundle. A bundle imports its files,
 * so their top-level tests run one after another in it, each file with its
 * own server as before. Top-level before() and after() hooks of every file in
 * a bundle run when the bundle starts and ends: what a file sets up there
 * must last until its tests have run (no task that ends by itself meanwhile).
 */
function bundled(list) {
  const count = Number(process.env.LAPIS_TEST_BUNDLES ?? concurrency);
  if (!(count > 0) || list.length <= count) return list;
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-test-bundles-'));
  process.once('exit', () => fs.rmSync(directory, { recursive: true, force: true }));
  const bundles = Array.from({ length: count }, () => ({ weight: 0, files: [] }));
  const weighed = list.map((file) => ({ file, weight: fs.statSync(file).size })).sort((a, b) => b.weight - a.weight);
  for (const { file, weight } of weighed) {
    const lightest = bundles.reduce((best, bundle) => (bundle.weight < best.weight ? bundle : best));
    lightest.weight += weight;
    lightest.files.push(file);
  }
  return bundles
    .filter((bundle) => bundle.files.length > 0)
    .map((bundle, index) => {
      const entry = path.join(directory, `bundle-${index + 1}.test.mjs`);
      fs.writeFileSync(entry, bundle.files.map((file) => `import ${JSON.stringify(path.resolve(file))};\n`).join(''));
      return entry;
    });
}

const groups = [
  { name: 'concurrent files', concurrency, files: bundled(files.filter((file) => !SERIAL.has(file))) },
  { name: 'serial files', concurrency: 1, files: files.filter((file) => SERIAL.has(file)) },
].filter((group) => group.files.length > 0);

const SUMMARY = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) (\d+(?:\.\d+)?)$/;
const TOP_LEVEL_RESULT = /^(not ok|ok) (\d+)\b(.*)$/;
const totals = { tests: 0, suites: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
let numbered = 0;
let failed = false;
const started = performance.now();

/** Runs one group; its TAP goes to stdout renumbered after the earlier groups', its summary into the totals. */
function runGroup(group) {
  const args = ['--import', 'tsx', '--test', '--test-reporter=tap', `--test-concurrency=${group.concurrency}`, ...group.files];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const offset = numbered;
  let first = true;
  let sawSummary = false;
  const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line === 'TAP version 13') {
      if (offset === 0 && first) process.stdout.write(`${line}\n`);
      first = false;
      process.stdout.write(`# ${group.name}: ${group.files.length} files, ${group.concurrency} at a time\n`);
      return;
    }
    // One plan, at the end.
    if (/^1\.\.\d+$/.test(line)) return;
    const summary = SUMMARY.exec(line);
    if (summary) {
      sawSummary = true;
      const [, key, value] = summary;
      if (key in totals) totals[key] += Number(value);
      process.stdout.write(`# ${group.name}: ${key} ${value}\n`);
      return;
    }
    const result = TOP_LEVEL_RESULT.exec(line);
    if (result) {
      const number = offset + Number(result[2]);
      numbered = Math.max(numbered, number);
      process.stdout.write(`${result[1]} ${number}${result[3]}\n`);
      return;
    }
    process.stdout.write(`${line}\n`);
  });
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      if (code !== 0 || !sawSummary) {
        failed = true;
        if (!sawSummary) process.stdout.write(`# ${group.name}: the test runner ended (${signal ?? code}) without its summary\n`);
      }
      resolve();
    });
  });
}

for (const group of groups) await runGroup(group);

process.stdout.write(`1..${numbered}\n`);
for (const [key, value] of Object.entries(totals)) process.stdout.write(`# ${key} ${value}\n`);
process.stdout.write(`# duration_ms ${(performance.now() - started).toFixed(3)}\n`);
if (totals.fail > 0 || totals.cancelled > 0) failed = true;
process.exitCode = failed ? 1 : 0;
