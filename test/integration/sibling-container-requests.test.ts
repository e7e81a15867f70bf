// What a container node may ask its host (`container.run`), asked as an
// attacker would: a task running as admin in a node is root there, can read
// its agent's credential and send any request the agent could. The host's
// side (ContainerAgentHost's siblings) is driven here directly, with a real
// node container, Podman and the Debian test image; skipped, saying why,
// where either is missing.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ContainerRunReply } from '../../src/api/node/protocol.js';
import type { NodePlacement, TaskRun } from '../../src/core/ports.js';
import { ContainerAgentHost } from '../../src/providers/container/container-agent-host.js';
import { containerEngine } from '../../src/providers/container/engine.js';
import { agentProgram } from '../../src/providers/local/agent-program.js';
import { TEST_NODE_IMAGE, testNodeImageMissing } from '../../src/testkit/test-node-image.js';

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

function containerRun(placement: NodePlacement, commandLine: string, fields: Partial<TaskRun> = {}): TaskRun {
  const jobId = unique('job');
  const taskId = unique('task');
  return {
    kind: 'task',
    ...placement,
    jobId,
    taskId,
    attempt: 1,
    commandLine,
    taskDirectory: `workitems/${jobId}/job-1/${taskId}`,
    resourceFiles: [],
    environment: {},
    accountUrl: 'https://attacker.example.test',
    elevationLevel: 'nonadmin',
    autoUserScope: 'pool',
    isRetry: false,
    outputFiles: [],
    container: { imageName: TEST_NODE_IMAGE, runOptions: [], workingDirectory: 'taskWorkingDirectory' },
    ...fields,
  };
}

const request = (run: TaskRun, extra: Record<string, unknown> = {}) => ({
  run: { kind: run.kind, account: run.account, poolId: run.poolId, nodeId: run.nodeId, jobId: run.jobId, taskId: run.taskId, attempt: run.attempt },
  owner: { uid: 1000, gid: 1000 },
  environment: {},
  ...extra,
});

describe('container.run as an attacker in the node asks it', { skip: testNodeImageMissing() }, () => {
  const nodesDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'lapis-siblings-test-'));
  const host = new ContainerAgentHost({ engine: containerEngine({ engine: 'podman' }), userNamespaces: true, imageOf: () => TEST_NODE_IMAGE, vmSizeOf: () => undefined, tag: unique('t') });
  const mine: NodePlacement = { account: 'attacker', poolId: 'pool', nodeId: unique('mine') };
  const theirs: NodePlacement = { account: 'victim', poolId: 'pool', nodeId: unique('theirs') };
  const directoryOf = (placement: NodePlacement) => path.join(nodesDirectory, placement.nodeId);

  before(async () => {
    const program = await agentProgram();
    // Real node containers: their agents wait for settings that never come, which is all these tests need of them.
    for (const placement of [mine, theirs]) host.start(placement, program, directoryOf(placement)).once('error', () => undefined);
  });
  after(async () => {
    await host.siblings.close();
    for (const placement of [mine, theirs]) await host.release(placement, directoryOf(placement));
    fs.rmSync(nodesDirectory, { recursive: true, force: true });
  });

  async function stdoutOf(run: TaskRun): Promise<string> {
    return fs.promises.readFile(path.join(host.nodeRoots(directoryOf(mine)).host, run.taskDirectory, 'stdout.txt'), 'utf8');
  }

  test("another node's run, a run never handed to the node, and a run ended are refused", async () => {
    const other = containerRun(theirs, '/bin/true');
    host.siblings.expect(other);
    await assert.rejects(host.siblings.run(mine, request(other)), /no such container run/);
    await assert.rejects(host.siblings.run(mine, request({ ...other, nodeId: mine.nodeId })), /no such container run/);
    await assert.rejects(host.siblings.run(mine, request(containerRun(mine, '/bin/true'))), /no such container run/);
    const stopped = containerRun(mine, '/bin/true');
    host.siblings.expect(stopped);
    await host.siblings.end(stopped);
    await assert.rejects(host.siblings.run(mine, request(stopped)), /no such container run/);
    await assert.rejects(host.siblings.run(mine, { ...request(stopped), run: { kind: 'task' } } as never), /named by/);
    await host.siblings.end(other);
  });

  test("ids outside the node's user namespace, and an environment that is not strings, are refused", async () => {
    const run = containerRun(mine, '/bin/true');
    host.siblings.expect(run);
    for (const owner of [{ uid: 400_000, gid: 0 }, { uid: -1, gid: 0 }, { uid: 1.5, gid: 0 }, { uid: '0', gid: 0 }, { uid: 0, gid: 0, groups: [400_000] }]) {
      await assert.rejects(host.siblings.run(mine, request(run, { owner })), /ids of the node/, JSON.stringify(owner));
    }
    await assert.rejects(host.siblings.run(mine, request(run, { environment: { X: 1 } })), /environment/);
    await host.siblings.end(run);
  });

  test('what a request says beyond the run, its ids and environment is not read: no host path, no privilege, no other image', { timeout: 120_000 }, async () => {
    const script = [
      'grep CapEff /proc/self/status',
      `test -e ${process.execPath} && echo host-visible || echo host-hidden`,
      'ls /host 2>/dev/null | head -1',
      'echo "env=$INJECTED"',
      'id -u',
    ].join('; ');
    const run = containerRun(mine, `/bin/sh -c '${script}'`);
    // The agent makes a run's directory before it asks.
    fs.mkdirSync(path.join(host.nodeRoots(directoryOf(mine)).host, run.taskDirectory, 'wd'), { recursive: true });
    const sent = host.siblings.expect(run);
    const forged = request(run, {
      imageName: 'docker.io/library/alpine',
      mounts: ['/:/host'],
      privileged: true,
      containerRunOptions: '--privileged -v /:/host',
      taskDirectory: '../../../../..',
      environment: { INJECTED: '--privileged -v /:/host' },
    });
    const reply = await host.siblings.run(mine, forged);
    assert.deepEqual(reply, { kind: 'exited', code: 0, signal: null, timedOut: false } satisfies ContainerRunReply, await stdoutOf(run).catch(() => ''));
    assert.deepEqual((await stdoutOf(run)).trim().split('\n'), ['CapEff:\t0000000000000000', 'host-hidden', 'env=--privileged -v /:/host', '1000']);
    assert.equal(sent.container?.imageName, TEST_NODE_IMAGE);
    await host.siblings.end(run);
  });

  test('an environment value with a line break is a ContainerInvalidSettings failure, not another option', async () => {
    const run = containerRun(mine, '/bin/true');
    host.siblings.expect(run);
    const reply = await host.siblings.run(mine, request(run, { environment: { X: '1\n--privileged' } }));
    assert.equal(reply.kind === 'failed' ? reply.failureInfo.code : reply.kind, 'ContainerInvalidSettings');
    await host.siblings.end(run);
  });

  test("the run a node is sent carries no registry password; the host keeps it for the pull", () => {
    const registry = { server: 'registry.example.test', username: 'me', password: 'hunter2-secret' };
    const run = containerRun(mine, '/bin/true', { container: { imageName: 'registry.example.test/app:1', runOptions: [], workingDirectory: 'taskWorkingDirectory', registry } });
    const sent = host.siblings.expect(run);
    assert.equal(JSON.stringify(sent).includes('hunter2-secret'), false);
    assert.equal(sent.container?.registry, undefined);
    assert.equal(run.container?.registry?.password, 'hunter2-secret');
  });
});
