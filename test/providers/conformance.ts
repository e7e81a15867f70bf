// The node provider conformance suite: what every NodeProvider (src/core/ports.ts)
// must do, checked through the port alone. A provider's test file calls
// `providerConformance(name, factory)`; LocalNodeProvider's is
// test/unit/provider-local-conformance.test.ts, and the container and Slurm
// providers run the same suite.
//
// The suite builds providers with the events it records and the heartbeat
// interval it asks for, runs POSIX sh command lines on their nodes, serves
// resource files from an http server on this machine, and reads the nodes'
// files through `nodeFiles`. Checks that cannot hold where the provider runs
// are skipped with the reason the factory gives.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { NodeEvents, NodeFileSystem, NodePlacement, NodeProvider, TaskRun, TaskRunRef, TaskRunReport } from '../../src/core/ports.js';
import { waitFor } from '../../src/testkit/test-server.js';

export interface ProviderUnderTest {
  provider: NodeProvider;
  /** Removes what the provider left (directories, accounts); called after close(). */
  cleanup(): Promise<void>;
}

export interface ProviderFactoryOptions {
  /** How often its agents must heartbeat (NodeEvents.nodeHeartbeat). */
  heartbeatIntervalMs: number;
}

/** Builds a provider that reports through `events`. Called once per suite, and again for the close() checks. */
export type ConformanceProviderFactory = (events: NodeEvents, options: ProviderFactoryOptions) => Promise<ProviderUnderTest> | ProviderUnderTest;

export interface ConformanceOptions {
  /** The host name or address nodes reach this machine's http servers at; 127.0.0.1 unless told. */
  httpHost?: string;
  /**
   * Why a nonadmin run cannot be told from the provider's own user here (e.g.
   * a local provider not running as root runs everything as itself): the
   * check is skipped with this reason.
   */
  separateUsersUnavailable?: string;
  /** How long a run may take to report (default 30 s). */
  timeoutMs?: number;
}

const HEARTBEAT_INTERVAL_MS = 100;

/** Records what the provider reports. */
class Recorder implements NodeEvents {
  readonly reports: TaskRunReport[] = [];
  readonly heartbeats = new Map<string, number>();

  taskFinished(report: TaskRunReport): void {
    this.reports.push(report);
  }

  nodeHeartbeat(nodeId: string): void {
    this.heartbeats.set(nodeId, (this.heartbeats.get(nodeId) ?? 0) + 1);
  }

  reportsOf(ref: TaskRunRef): TaskRunReport[] {
    return this.reports.filter((report) => sameRun(report.run, ref));
  }

  beats(nodeId: string): number {
    return this.heartbeats.get(nodeId) ?? 0;
  }
}

function sameRun(a: TaskRunRef, b: TaskRunRef): boolean {
  return a.kind === b.kind && a.account === b.account && a.poolId === b.poolId && a.nodeId === b.nodeId && a.jobId === b.jobId && a.taskId === b.taskId && a.attempt === b.attempt;
}

let sequence = 0;
/** Ids unique within the process and across processes running at once. */
function unique(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}`;
}

function newPlacement(): NodePlacement {
  return { account: 'conformance', poolId: unique('pool'), nodeId: unique('tvm') };
}

/** Single quotes for sh. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function taskRun(placement: NodePlacement, script: string, fields: Partial<TaskRun> = {}): TaskRun {
  const jobId = fields.jobId ?? unique('job');
  const taskId = fields.taskId ?? unique('task');
  return {
    kind: 'task',
    ...placement,
    jobId,
    taskId,
    attempt: 1,
    commandLine: `/bin/sh -c ${quote(script)}`,
    taskDirectory: `workitems/${jobId}/job-1/${taskId}`,
    resourceFiles: [],
    environment: {},
    accountUrl: 'https://conformance.example.test',
    elevationLevel: 'nonadmin',
    autoUserScope: 'pool',
    isRetry: false,
    outputFiles: [],
    ...fields,
  };
}

async function readText(files: NodeFileSystem, file: string): Promise<string> {
  const { content } = await files.read(file);
  const chunks: Buffer[] = [];
  for await (const chunk of content) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** undefined when the file is not there (or its node is gone). */
async function statOrGone(files: NodeFileSystem | undefined, file: string) {
  if (!files) return undefined;
  try {
    return await files.stat(file);
  } catch {
    return undefined;
  }
}

export function providerConformance(name: string, factory: ConformanceProviderFactory, options: ConformanceOptions = {}): void {
  const timeoutMs = options.timeoutMs ?? 30_000;

  describe(`NodeProvider conformance: ${name}`, () => {
    const events = new Recorder();
    let subject: ProviderUnderTest;
    let provider: NodeProvider;
    let httpServer: http.Server;
    let httpBase: string;
    const served = new Map<string, string>();

    before(async () => {
      subject = await factory(events, { heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS });
      provider = subject.provider;
      httpServer = http.createServer((request, response) => {
        const body = served.get(request.url ?? '');
        if (body === undefined) {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) }).end(body);
      });
      await new Promise<void>((resolve) => httpServer.listen(0, options.httpHost ?? '127.0.0.1', resolve));
      httpBase = `http://${options.httpHost ?? '127.0.0.1'}:${(httpServer.address() as AddressInfo).port}`;
    });

    after(async () => {
      await provider?.close();
      await subject?.cleanup();
      await new Promise<void>((resolve) => (httpServer ? httpServer.close(() => resolve()) : resolve()));
    });

    async function provisioned(): Promise<NodePlacement> {
      const placement = newPlacement();
      await provider.provisionNode(placement);
      return placement;
    }

    function files(placement: NodePlacement): NodeFileSystem {
      const found = provider.nodeFiles(placement);
      assert.ok(found, `nodeFiles answers for the provisioned node ${placement.nodeId}`);
      return found;
    }

    /** Runs to its report; exactly one report. */
    async function runToEnd(run: TaskRun): Promise<TaskRunReport> {
      provider.runTask(run);
      const report = await waitFor(() => events.reportsOf(run)[0], { timeoutMs, what: `the report of ${run.taskId}` });
      assert.equal(events.reportsOf(run).length, 1, 'a run reports once');
      return report;
    }

    test('a provisioned node heartbeats, at the interval it was given', async () => {
      const placement = await provisioned();
      await waitFor(() => (events.beats(placement.nodeId) >= 3 ? true : undefined), { timeoutMs: 20 * HEARTBEAT_INTERVAL_MS + 5_000, what: 'three heartbeats' });
    });

    test('a simple command reports exit code 0, with start and end times, and its stdout.txt and stderr.txt are readable through nodeFiles', async () => {
      const placement = await provisioned();
      const run = taskRun(placement, 'echo hello from the node; echo to stderr >&2');
      const report = await runToEnd(run);
      assert.equal(report.outcome.exitCode, 0);
      assert.equal(report.outcome.failureInfo, undefined);
      assert.ok(report.outcome.startTime && report.outcome.endTime, 'start and end times');
      assert.ok(Date.parse(report.outcome.endTime) >= Date.parse(report.outcome.startTime as string));
      assert.deepEqual(report.run, { kind: run.kind, account: run.account, poolId: run.poolId, nodeId: run.nodeId, jobId: run.jobId, taskId: run.taskId, attempt: run.attempt }, 'the report names the run');
      assert.equal(await readText(files(placement), `${run.taskDirectory}/stdout.txt`), 'hello from the node\n');
      assert.equal(await readText(files(placement), `${run.taskDirectory}/stderr.txt`), 'to stderr\n');
      const listed = await files(placement).list(run.taskDirectory, false);
      assert.ok(listed.some((entry) => entry.name === 'stdout.txt' && !entry.isDirectory && entry.contentLength === 'hello from the node\n'.length));
    });

    test('a failing command reports its exit code', async () => {
      const placement = await provisioned();
      const report = await runToEnd(taskRun(placement, 'echo failing; exit 3'));
      assert.equal(report.outcome.exitCode, 3);
    });

    test('a program that does not exist reports a failure, not a crash of the provider', async () => {
      const placement = await provisioned();
      const run = { ...taskRun(placement, ''), commandLine: '/no/such/program-conformance --flag' };
      const report = await runToEnd(run);
      assert.ok(report.outcome.failureInfo || (report.outcome.exitCode ?? 0) !== 0, 'a failure or a non-zero exit code');
      assert.equal((await runToEnd(taskRun(placement, 'true'))).outcome.exitCode, 0, 'the node still runs tasks');
    });

    test("a run's environment: AZ_BATCH_* variables from the run, and the user's settings", async () => {
      const placement = await provisioned();
      const run = taskRun(placement, 'env', { environment: { CONFORMANCE_SETTING: 'a value with spaces', AZ_BATCH_NODE_ID: 'overridden by Batch' } });
      assert.equal((await runToEnd(run)).outcome.exitCode, 0);
      const env = new Map(
        (await readText(files(placement), `${run.taskDirectory}/stdout.txt`))
          .split('\n')
          .filter((line) => line.includes('='))
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
      );
      assert.equal(env.get('AZ_BATCH_TASK_ID'), run.taskId);
      assert.equal(env.get('AZ_BATCH_JOB_ID'), run.jobId);
      assert.equal(env.get('AZ_BATCH_NODE_ID'), placement.nodeId, "Batch's variables win over the user's settings");
      assert.equal(env.get('AZ_BATCH_POOL_ID'), placement.poolId);
      assert.equal(env.get('AZ_BATCH_ACCOUNT_NAME'), placement.account);
      assert.equal(env.get('AZ_BATCH_ACCOUNT_URL'), run.accountUrl);
      assert.equal(env.get('CONFORMANCE_SETTING'), 'a value with spaces');
      for (const variable of ['AZ_BATCH_NODE_ROOT_DIR', 'AZ_BATCH_NODE_SHARED_DIR', 'AZ_BATCH_TASK_DIR', 'AZ_BATCH_TASK_WORKING_DIR']) {
        assert.ok(env.get(variable), `${variable} is set`);
      }
      assert.ok(env.get('AZ_BATCH_TASK_WORKING_DIR')?.startsWith(env.get('AZ_BATCH_TASK_DIR') as string), 'the working directory is in the task directory');
    });

    test('the run starts in its working directory, which holds its resource files downloaded from an http URL', async () => {
      const placement = await provisioned();
      const file = `/${unique('resource')}.txt`;
      served.set(file, 'resource file content\n');
      const run = taskRun(placement, 'cat input/data.txt; test "$(pwd -P)" = "$(cd "$AZ_BATCH_TASK_WORKING_DIR" && pwd -P)" && echo in-working-dir', {
        resourceFiles: [{ httpUrl: `${httpBase}${file}`, filePath: 'input/data.txt' }],
      });
      const report = await runToEnd(run);
      assert.equal(report.outcome.exitCode, 0, JSON.stringify(report.outcome));
      assert.equal(await readText(files(placement), `${run.taskDirectory}/stdout.txt`), 'resource file content\nin-working-dir\n');
      assert.equal(await readText(files(placement), `${run.taskDirectory}/wd/input/data.txt`), 'resource file content\n');
    });

    test('a resource file that cannot be downloaded fails the run with a failure, without running it', async () => {
      const placement = await provisioned();
      const run = taskRun(placement, 'echo ran > ran.txt', { resourceFiles: [{ httpUrl: `${httpBase}/${unique('missing')}.txt`, filePath: 'missing.txt' }] });
      const report = await runToEnd(run);
      assert.ok(report.outcome.failureInfo, 'a failureInfo');
      assert.equal(await statOrGone(files(placement), `${run.taskDirectory}/wd/ran.txt`), undefined, 'the command did not run');
    });

    test('a nonadmin run does not run as root, an admin run does', { skip: options.separateUsersUnavailable ?? false }, async () => {
      const placement = await provisioned();
      const user = taskRun(placement, 'id -u', { elevationLevel: 'nonadmin' });
      const admin = taskRun(placement, 'id -u', { elevationLevel: 'admin' });
      assert.equal((await runToEnd(user)).outcome.exitCode, 0);
      assert.equal((await runToEnd(admin)).outcome.exitCode, 0);
      assert.notEqual((await readText(files(placement), `${user.taskDirectory}/stdout.txt`)).trim(), '0');
      assert.equal((await readText(files(placement), `${admin.taskDirectory}/stdout.txt`)).trim(), '0');
    });

    test('stopTask ends a running run and its process tree; the run reports nothing afterwards', async () => {
      const placement = await provisioned();
      // A background child and the leader, both recorded, then the leader waits.
      const run = taskRun(placement, 'sleep 300 & echo $! > child.pid; echo $$ > leader.pid; echo started; wait');
      provider.runTask(run);
      const wd = `${run.taskDirectory}/wd`;
      await waitFor(async () => ((await statOrGone(files(placement), `${wd}/leader.pid`))?.contentLength ? true : undefined), { timeoutMs, what: 'the run to start' });
      const pids = [(await readText(files(placement), `${wd}/leader.pid`)).trim(), (await readText(files(placement), `${wd}/child.pid`)).trim()];
      await provider.stopTask(run);
      // Probes on the same node (its view of processes): neither process is left.
      const script = `${pids.map((pid) => `if [ -d /proc/${pid} ] && ! grep -q '^State:.*Z' /proc/${pid}/status 2>/dev/null; then echo alive ${pid}; fi`).join('; ')}; echo probed`;
      let said = '';
      await waitFor(
        async () => {
          const probe = taskRun(placement, script);
          assert.equal((await runToEnd(probe)).outcome.exitCode, 0);
          said = await readText(files(placement), `${probe.taskDirectory}/stdout.txt`);
          return said === 'probed\n' ? true : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 200, what: 'the stopped run to leave no process' },
      ).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}; the probe said: ${said}`);
      });
      // The probe's report came after the stop: a report of the stopped run would have come first.
      assert.deepEqual(events.reportsOf(run), [], 'the stopped run reports no outcome');
    });

    test('stopTask of a run that has ended, or was never started, is harmless', async () => {
      const placement = await provisioned();
      const ended = taskRun(placement, 'true');
      await runToEnd(ended);
      await provider.stopTask(ended);
      await provider.stopTask(taskRun(placement, 'true'));
      assert.equal((await runToEnd(taskRun(placement, 'true'))).outcome.exitCode, 0);
    });

    test('restartNode without wipe keeps the node files; with wipe removes them; the node runs tasks after either', async () => {
      const placement = await provisioned();
      const run = taskRun(placement, 'echo kept > "$AZ_BATCH_NODE_SHARED_DIR/kept.txt"; echo output');
      assert.equal((await runToEnd(run)).outcome.exitCode, 0);
      const stdout = `${run.taskDirectory}/stdout.txt`;

      await provider.restartNode(placement, { wipe: false });
      assert.equal(await readText(files(placement), stdout), 'output\n', 'a reboot keeps the task files');
      assert.equal(await readText(files(placement), 'shared/kept.txt'), 'kept\n', 'and the shared directory');
      assert.equal((await runToEnd(taskRun(placement, 'echo after reboot'))).outcome.exitCode, 0);

      await provider.restartNode(placement, { wipe: true });
      assert.equal(await statOrGone(provider.nodeFiles(placement), stdout), undefined, 'a reimage removes the task files');
      assert.equal(await statOrGone(provider.nodeFiles(placement), 'shared/kept.txt'), undefined, 'and the shared directory');
      const after = taskRun(placement, 'echo after reimage');
      assert.equal((await runToEnd(after)).outcome.exitCode, 0);
      assert.equal(await readText(files(placement), `${after.taskDirectory}/stdout.txt`), 'after reimage\n');
    });

    test('restartNode ends the running runs of the node; they report nothing', async () => {
      const placement = await provisioned();
      const run = taskRun(placement, 'echo started; exec sleep 300');
      provider.runTask(run);
      await waitFor(async () => ((await statOrGone(files(placement), `${run.taskDirectory}/stdout.txt`))?.contentLength ? true : undefined), { timeoutMs, what: 'the run to start' });
      await provider.restartNode(placement, { wipe: false });
      // A run after the restart reports; the ended one does not.
      assert.equal((await runToEnd(taskRun(placement, 'true'))).outcome.exitCode, 0);
      assert.deepEqual(events.reportsOf(run), []);
    });

    test("releaseNode removes the node's files", async () => {
      const placement = await provisioned();
      const run = taskRun(placement, 'echo x > "$AZ_BATCH_NODE_SHARED_DIR/f.txt"');
      assert.equal((await runToEnd(run)).outcome.exitCode, 0);
      const before = files(placement);
      assert.ok(await statOrGone(before, `${run.taskDirectory}/stdout.txt`));
      await provider.releaseNode(placement);
      assert.equal(await statOrGone(before, `${run.taskDirectory}/stdout.txt`), undefined, 'the task files are gone');
      assert.equal(await statOrGone(before, 'shared/f.txt'), undefined, 'the shared files are gone');
      assert.equal(await statOrGone(provider.nodeFiles(placement), `${run.taskDirectory}/stdout.txt`), undefined);
    });

    test('nodes are independent: one node does not see another\'s files, and releasing one leaves the other running', async () => {
      const [first, second] = [await provisioned(), await provisioned()];
      const run = taskRun(first, 'echo first > "$AZ_BATCH_NODE_SHARED_DIR/mine.txt"');
      assert.equal((await runToEnd(run)).outcome.exitCode, 0);
      assert.equal(await statOrGone(files(second), 'shared/mine.txt'), undefined);
      await provider.releaseNode(first);
      const beats = events.beats(second.nodeId);
      await waitFor(() => (events.beats(second.nodeId) > beats ? true : undefined), { timeoutMs: 20 * HEARTBEAT_INTERVAL_MS + 5_000, what: 'the other node to keep heartbeating' });
      assert.equal((await runToEnd(taskRun(second, 'true'))).outcome.exitCode, 0);
    });
  });

  describe(`NodeProvider conformance: ${name}, close()`, () => {
    test('close() ends every run and heartbeat; nothing is reported afterwards', async () => {
      const events = new Recorder();
      const subject = await factory(events, { heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS });
      const { provider } = subject;
      try {
        const placement = newPlacement();
        await provider.provisionNode(placement);
        await waitFor(() => (events.beats(placement.nodeId) > 0 ? true : undefined), { timeoutMs, what: 'a heartbeat' });
        // A run that ticks into a file as long as it lives.
        const run = taskRun(placement, 'while :; do echo tick >> ticks.txt; sleep 0.05; done');
        provider.runTask(run);
        const nodeFiles = provider.nodeFiles(placement) as NodeFileSystem;
        const ticks = `${run.taskDirectory}/wd/ticks.txt`;
        await waitFor(async () => ((await statOrGone(nodeFiles, ticks))?.contentLength ? true : undefined), { timeoutMs, what: 'the run to tick' });
        await provider.close();
        const beats = events.beats(placement.nodeId);
        const size = (await statOrGone(nodeFiles, ticks))?.contentLength;
        // Nothing may happen after close(): absence needs a wait, of several heartbeat intervals and ticks.
        await new Promise((resolve) => setTimeout(resolve, 10 * HEARTBEAT_INTERVAL_MS));
        assert.equal(events.beats(placement.nodeId), beats, 'no heartbeat after close()');
        assert.deepEqual(events.reportsOf(run), [], 'no report after close()');
        const later = await statOrGone(nodeFiles, ticks);
        if (size !== undefined && later) assert.equal(later.contentLength, size, 'the run no longer ticks: its process ended');
      } finally {
        await provider.close();
        await subject.cleanup();
      }
    });
  });
}
