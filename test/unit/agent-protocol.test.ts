// The agent protocol (api/node/) between a real hub and real agent clients
// over WebSockets: a node credential admits its own node alone, and every
// run report is recorded exactly once however the connection drops — a
// report made while disconnected, an acknowledgement lost, a frame sent twice.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { AgentClient } from '../../src/api/node/agent-client.js';
import { AgentHub } from '../../src/api/node/agent-hub.js';
import { AGENT_AUTH_SCHEME, type Frame } from '../../src/api/node/protocol.js';
import type { TaskRunReport } from '../../src/core/ports.js';
import { waitFor } from '../../src/testkit/test-server.js';

function report(taskId: string): TaskRunReport {
  return {
    run: { kind: 'task', account: 'acct', poolId: 'pool', nodeId: 'node-a', jobId: 'job', taskId, attempt: 1 },
    outcome: { exitCode: 0, startTime: '2026-12-04T00:00:00.000Z', endTime: '2026-12-04T00:00:01.000Z' },
  };
}

describe('agent protocol', () => {
  const recorded: TaskRunReport[] = [];
  const heartbeats: string[] = [];
  let dropNextAck = false;
  let containerRunsAsked = 0;
  let hub: AgentHub;
  let url: string;

  before(async () => {
    hub = new AgentHub({
      reports: (nodeId, reports) => {
        recorded.push(...reports);
        // The connection ends before the acknowledgement leaves: the agent must send the report again.
        if (dropNextAck) {
          dropNextAck = false;
          hub.connection(nodeId)?.close();
        }
      },
      heartbeat: (nodeId) => heartbeats.push(nodeId),
      request: async (nodeId, body) => {
        // The first container.run loses its connection before the answer leaves: the agent asks again.
        if (body.op === 'container.run' && containerRunsAsked++ === 0) hub.connection(nodeId)?.close();
        return { asked: body.op };
      },
    });
    url = await hub.listen('127.0.0.1');
  });
  after(() => hub.close());

  function client(nodeId: string, credential: string, refused: () => void = () => undefined): AgentClient {
    return new AgentClient({ url, nodeId, credential, request: async () => null, run: () => undefined, refused });
  }

  async function refusedWith(nodeId: string, credential: string): Promise<boolean> {
    const agent = client(nodeId, credential, () => undefined);
    const outcome = await agent.connect().then(
      () => false,
      () => true,
    );
    agent.close();
    return outcome;
  }

  test("a node's credential admits that node alone; a revoked one admits nobody", async () => {
    const a = hub.issueCredential('node-a');
    hub.issueCredential('node-b');
    assert.equal(await refusedWith('node-b', a), true, "node A's credential is refused for node B");
    assert.equal(await refusedWith('node-a', `${a}x`), true, 'a wrong credential is refused');
    assert.equal(await refusedWith('node-c', a), true, 'a node without a credential is refused');
    assert.equal(await refusedWith('node-a', a), false, "node A's credential admits node A");
    hub.revoke('node-a');
    assert.equal(await refusedWith('node-a', a), true, 'a revoked credential is refused');
  });

  test('a container.run whose connection drops is asked again once reconnected, and answered', async () => {
    const agent = client('node-r', hub.issueCredential('node-r'));
    await agent.connect();
    const run = { kind: 'task' as const, account: 'acct', poolId: 'pool', nodeId: 'node-r', jobId: 'job', taskId: 'boxed', attempt: 1 };
    assert.deepEqual(await agent.requestUntilAnswered({ op: 'container.run', run, environment: {} }), { asked: 'container.run' });
    assert.equal(containerRunsAsked, 2);
    agent.close();
  });

  test('a connection without a credential gets 401 and nothing else', async () => {
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(url);
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('open', () => resolve(101));
    });
    assert.equal(status, 401);
  });

  test('reports are acknowledged and recorded once: a lost acknowledgement, a report made while disconnected', async () => {
    recorded.length = 0;
    const agent = client('node-a', hub.issueCredential('node-a'));
    await agent.connect();
    agent.heartbeat();
    await waitFor(() => (heartbeats.includes('node-a') ? true : undefined), { what: 'a heartbeat' });

    dropNextAck = true;
    agent.report(report('first'));
    // Recorded, its acknowledgement lost with the connection: sent again after the reconnect, not recorded again.
    await waitFor(() => (recorded.length === 1 ? true : undefined), { what: 'the first report' });
    const reconnected = await waitFor(() => hub.connection('node-a'), { what: 'the reconnect' });

    // Made while the connection is down: sent once it is back.
    reconnected.close();
    agent.report(report('second'));
    await waitFor(() => (recorded.some((r) => r.run.taskId === 'second') ? true : undefined), { what: 'the second report' });
    agent.report(report('third'));
    await waitFor(() => (recorded.some((r) => r.run.taskId === 'third') ? true : undefined), { what: 'the third report' });
    assert.deepEqual(
      recorded.map((r) => r.run.taskId),
      ['first', 'second', 'third'],
    );
    agent.close();
  });

  test('a reports frame sent twice is recorded once and acknowledged both times', async () => {
    recorded.length = 0;
    const credential = hub.issueCredential('node-a');
    const socket = new WebSocket(url, { headers: { authorization: `${AGENT_AUTH_SCHEME} node-a:${credential}` } });
    await new Promise((resolve) => socket.once('open', resolve));
    const acks: number[][] = [];
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.type === 'ack') acks.push(frame.seqs);
    });
    const frame: Frame = { type: 'reports', session: 's1', ackedBelow: 1, reports: [{ seq: 1, report: report('twice') }] };
    socket.send(JSON.stringify(frame));
    socket.send(JSON.stringify(frame));
    await waitFor(() => (acks.length === 2 ? true : undefined), { what: 'two acknowledgements' });
    assert.deepEqual(acks, [[1], [1]]);
    assert.deepEqual(
      recorded.map((r) => r.run.taskId),
      ['twice'],
    );
    socket.close();
  });

  test("the agent's requests are answered by the server's side", async () => {
    const agent = client('node-a', hub.issueCredential('node-a'));
    assert.deepEqual(await agent.request({ op: 'accounts.poolGroup' }), { asked: 'accounts.poolGroup' });
    agent.close();
  });
});
