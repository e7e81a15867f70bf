// A node's usage measurements (agent/node-usage-meter.ts): from a control
// group's files where it has them (a directory laid out as cgroup v2 lays
// one out, its counters moved by the test), else per process from /proc,
// measured on a real process that burns CPU.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseCpuStat, parseIoStat } from '../../src/agent/cgroup-usage.js';
import { NodeUsageMeter } from '../../src/agent/node-usage-meter.js';
import { parseProcessStat } from '../../src/agent/process-usage.js';

let root: string;
const cpus = os.availableParallelism();

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-usage-'));
});

after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** A control group directory with these counters, as the kernel writes its files. */
function writeGroup(group: string, counters: { cpuUsec: number; memory: number; rbytes: number; wbytes: number; rios: number; wios: number }): void {
  fs.mkdirSync(group, { recursive: true });
  fs.writeFileSync(path.join(group, 'cpu.stat'), `usage_usec ${counters.cpuUsec}\nuser_usec ${counters.cpuUsec}\nsystem_usec 0\nnice_usec 0\n`);
  fs.writeFileSync(path.join(group, 'memory.current'), `${counters.memory}\n`);
  const half = (value: number) => Math.floor(value / 2);
  fs.writeFileSync(
    path.join(group, 'io.stat'),
    [
      `8:0 rbytes=${half(counters.rbytes)} wbytes=${half(counters.wbytes)} rios=${half(counters.rios)} wios=${half(counters.wios)} dbytes=0 dios=0`,
      `259:0 rbytes=${counters.rbytes - half(counters.rbytes)} wbytes=${counters.wbytes - half(counters.wbytes)} rios=${counters.rios - half(counters.rios)} wios=${counters.wios - half(counters.wios)} dbytes=0 dios=0`,
      '',
    ].join('\n'),
  );
}

test('the cgroup files are read as the kernel writes them', () => {
  assert.equal(parseCpuStat('usage_usec 14425\nuser_usec 7212\nsystem_usec 7212\n'), 14425);
  assert.equal(parseCpuStat('user_usec 1\n'), undefined);
  assert.deepEqual(parseIoStat('8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=5 wbytes=5 rios=1 wios=1 dbytes=0 dios=0\n'), {
    readBytes: 15,
    writeBytes: 25,
    readOps: 2,
    writeOps: 3,
  });
  // The command name may hold spaces and parentheses: fields count from the last ')'.
  const stat = '4242 (a (weird) name) R 1 4240 4240 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 1 0 98765 1000 100 18446744073709551615';
  assert.deepEqual(parseProcessStat(stat), { processGroup: 4240, cpuMs: 3000, startTicks: 98765 });
});

test('a node with a control group: CPU, memory and disk I/O from the group\'s files, counters as growth since the last measurement', async () => {
  const group = path.join(root, 'cgroup', 'node-1');
  let now = 1_000;
  const meter = new NodeUsageMeter({ root, cgroup: group, processGroups: () => [] }, () => now);
  writeGroup(group, { cpuUsec: 1_000_000, memory: 50_000_000, rbytes: 4096, wbytes: 8192, rios: 1, wios: 2 });
  assert.equal(await meter.measure(), undefined, 'the first measurement is the baseline');

  now += 5_000;
  writeGroup(group, { cpuUsec: 1_000_000 + 5_000_000 * cpus, memory: 80_000_000, rbytes: 4096 + 1_000_000, wbytes: 8192 + 3_000_000, rios: 11, wios: 32 });
  const busy = await meter.measure();
  assert.ok(busy);
  assert.equal(busy.intervalMs, 5_000);
  assert.equal(busy.cpuMs, 5_000 * cpus);
  assert.equal(busy.cpuPercent, 100, 'every CPU busy for the whole interval');
  assert.equal(busy.memoryBytes, 80_000_000);
  assert.deepEqual([busy.diskReadBytes, busy.diskWriteBytes, busy.diskReadOps, busy.diskWriteOps], [1_000_000, 3_000_000, 10, 30]);
  assert.ok(busy.diskBytes > 0, 'the bytes used on the node directory\'s file system');
  assert.deepEqual([busy.networkInBytes, busy.networkOutBytes], [0, 0], 'a local node shares the host\'s network: not measured');

  now += 5_000;
  const idle = await meter.measure();
  assert.deepEqual([idle?.cpuPercent, idle?.cpuMs, idle?.diskReadBytes, idle?.diskWriteOps], [0, 0, 0, 0]);

  // A reboot makes the node's group anew: its counters start again from 0, and what they hold is all new.
  fs.rmSync(group, { recursive: true });
  writeGroup(group, { cpuUsec: 250_000 * cpus, memory: 1_000, rbytes: 0, wbytes: 0, rios: 0, wios: 0 });
  now += 5_000;
  const restarted = await meter.measure();
  assert.equal(restarted?.cpuMs, 250 * cpus);
  assert.equal(restarted?.cpuPercent, 5);
});

test('a node whose group has not been made yet measures nothing used', async () => {
  let now = 0;
  const meter = new NodeUsageMeter({ root, cgroup: path.join(root, 'cgroup', 'never'), processGroups: () => [] }, () => now);
  await meter.measure();
  now += 5_000;
  const sample = await meter.measure();
  assert.deepEqual([sample?.cpuPercent, sample?.memoryBytes, sample?.diskReadBytes], [0, 0, 0]);
});

test('without a control group: the processes of the node\'s runs\' process groups, from /proc', async () => {
  // A run leads a process group of its own, as the task launcher starts it.
  const burner = spawn('/bin/sh', ['-c', 'while :; do :; done'], { detached: true, stdio: 'ignore' });
  try {
    const pid = burner.pid as number;
    const meter = new NodeUsageMeter({ root, processGroups: () => [pid] });
    const burnedMs = () => parseProcessStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')).cpuMs;
    // The burner runs while the meter reads: each sample is bracketed by reads of /proc before and after it.
    const beforeFirst = burnedMs();
    await meter.measure();
    const afterFirst = burnedMs();
    // However busy the machine: until the burner has used 300 ms of CPU since the first sample.
    while (burnedMs() - afterFirst < 300) await new Promise((resolve) => setTimeout(resolve, 50));
    const beforeSecond = burnedMs();
    const sample = await meter.measure();
    const afterSecond = burnedMs();
    assert.ok(sample);
    // Within two clock ticks of what /proc says the burner used between the two samples.
    const least = beforeSecond - afterFirst;
    const most = afterSecond - beforeFirst;
    assert.ok(sample.cpuMs >= least - 20 && sample.cpuMs <= most + 20, `cpuMs ${sample.cpuMs}, the burner used between ${least} and ${most}`);
    assert.ok(sample.cpuPercent > 0, `cpuPercent ${sample.cpuPercent}`);
    assert.ok(sample.memoryBytes > 0, 'the shell\'s resident memory');
    assert.equal(sample.diskReadOps, 0, '/proc counts no disk operations');

    const others = new NodeUsageMeter({ root, processGroups: () => [] });
    await others.measure();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await others.measure())?.cpuMs, 0, 'another node\'s runs are not this node\'s');
  } finally {
    burner.kill('SIGKILL');
  }
});
