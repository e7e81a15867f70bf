// `lapis agent`: one compute node's agent as a process of its own. It reads
// its settings (agent-settings.ts) from standard input, connects to the
// server over the agent protocol, and does the node's work there: runs,
// stops, reboots and reimages, file access. Its runs' processes are started
// by a launcher of its own, so a node's launches never wait on another's.

import { AgentClient } from '../api/node/agent-client.js';
import { StreamedAnswer } from '../api/node/peer.js';
import { toWireEntry, type ContainerRunReply, type PackageManifest, type ReadReply, type ServerRequest } from '../api/node/protocol.js';
import { NodeAgent } from './node-agent.js';
import type { AgentSettings } from './agent-settings.js';
import type { NodeUserAccounts } from '../core/ports.js';
import { NodeLocalAccounts } from './node-local-accounts.js';
import { RemoteUserAccounts } from './remote-user-accounts.js';
import { TaskLauncher } from './task-launcher.js';

/**
 * How long an ending agent waits at most for its connection's closing
 * handshake, which the server answers once it has read the agent's last
 * reply (a server that does not answer must not hold the agent).
 */
const EXIT_GRACE_MS = 100;

export async function runAgent(settings: AgentSettings): Promise<void> {
  const launcher = new TaskLauncher({ nativeSpawn: settings.nativeSpawn ?? true });
  let offset = settings.clockOffsetMs ?? 0;
  let agent: NodeAgent | undefined;
  let exiting = false;
  const exit = (code: number) => {
    if (exiting) return;
    exiting = true;
    const closed = Promise.race([client.close(), new Promise((resolve) => setTimeout(resolve, EXIT_GRACE_MS).unref())]);
    void Promise.allSettled([launcher.close(), closed]).then(() => process.exit(code));
  };
  const answer = async (body: ServerRequest): Promise<unknown> => {
    const node = agent as NodeAgent;
    switch (body.op) {
      case 'prepare':
        return node.prepare(body.containerImages);
      case 'stop':
        return node.stop(body.run);
      case 'restart':
        return node.restart(body.wipe, body.containerImages);
      case 'destroy':
        await node.destroy();
        setImmediate(() => exit(0));
        return null;
      case 'shutdown':
        await node.shutdown();
        setImmediate(() => exit(0));
        return null;
      case 'files.stat': {
        const entry = await node.files.stat(body.path);
        return entry ? toWireEntry(entry) : null;
      }
      case 'files.list':
        return (await node.files.list(body.path, body.recursive)).map(toWireEntry);
      case 'files.read': {
        const { entry, content, length } = await node.files.read(body.path, body.range);
        const reply: ReadReply = { entry: toWireEntry(entry), length };
        return new StreamedAnswer(reply, content);
      }
      case 'files.delete':
        return node.files.delete(body.path, body.recursive);
    }
  };
  const client = new AgentClient({
    url: settings.url,
    nodeId: settings.nodeId,
    credential: settings.credential,
    request: answer,
    run: (run, serverTime) => {
      // The server's clock decides the times a run reports (its own may be shifted, in tests).
      offset = serverTime - Date.now();
      agent?.run(run);
    },
    refused: () => exit(0),
  });
  agent = new NodeAgent(
    { account: settings.account, poolId: settings.poolId, nodeId: settings.nodeId },
    settings.root,
    { taskFinished: (report) => client.report(report), nodeHeartbeat: (sample) => client.heartbeat(sample) },
    {
      userAccounts: accountsFor(settings.osAccounts, client),
      cgroupRoot: settings.cgroupRoot,
      clock: () => new Date(Date.now() + offset),
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      fetchPackage: async (directory) => {
        const { value, content } = await client.requestStream<PackageManifest>({ op: 'packages.read', directory });
        return { manifest: value, content };
      },
      containers: settings.containers,
      azureNames: settings.azureNames,
      // Asked again after a reconnect: the host answers a container it already started with that container's end.
      runBeside: (request) => client.requestUntilAnswered<ContainerRunReply>({ op: 'container.run', ...request }),
    },
    launcher,
  );
  // Without its starter the agent ends; the launcher lives on and records how the runs end, for the next server.
  if (settings.lifeline) {
    process.stdin.once('end', () => process.exit(0));
    process.stdin.resume();
  }
  await client.connect();
}

function accountsFor(kind: AgentSettings['osAccounts'], client: AgentClient): NodeUserAccounts | undefined {
  if (kind === 'server') return new RemoteUserAccounts((body) => client.request(body));
  if (kind === 'node') return new NodeLocalAccounts();
  return undefined;
}

/** Reads the settings line from standard input, which stays open as the lifeline. */
export function readSettings(): Promise<AgentSettings> {
  return new Promise((resolve, reject) => {
    let text = '';
    const read = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const end = text.indexOf('\n');
      if (end < 0) return;
      process.stdin.off('data', read);
      process.stdin.off('end', ended);
      try {
        resolve(JSON.parse(text.slice(0, end)) as AgentSettings);
      } catch (error) {
        reject(error);
      }
    };
    const ended = () => reject(new Error('lapis agent: no settings on standard input.'));
    process.stdin.on('data', read);
    process.stdin.once('end', ended);
  });
}
