// The server's side of the agent protocol: where node agents connect. It
// issues each node's credential (a random token; only its hash is kept),
// admits a WebSocket only with the credential of the node it names, keeps
// one connection per node (a reconnect replaces the old one), and turns the
// agents' frames into the provider's events: heartbeats, run reports (each
// recorded once, acknowledged once recorded, and again when replayed) and the
// agents' own requests.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { nodeUsageSampleOf, type NodeUsageSample } from '../../core/node-usage.js';
import type { NodeFileSystem, TaskRun, TaskRunReport } from '../../core/ports.js';
import { AgentPeer, type Corkable } from './peer.js';
import { AGENT_AUTH_SCHEME, AGENT_PATH, type AgentRequest, type Frame, type ServerRequest } from './protocol.js';
import { RemoteNodeFiles } from './remote-node-files.js';

export interface AgentHubEvents {
  /** Runs that ended, each once however often its agent sends it; they are acknowledged once it returns, or the promise it returns resolves. */
  reports(nodeId: string, reports: TaskRunReport[]): void | Promise<void>;
  /** The agent is alive; with its node's usage sample when the frame carried a well-formed one. */
  heartbeat(nodeId: string, sample?: NodeUsageSample): void;
  /** Answers what an agent asks of the server (its node's OS accounts). */
  request(nodeId: string, body: AgentRequest): Promise<unknown>;
}

/** A frame's largest size: a run with its certificates and environment, or a file chunk. */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export class AgentHub {
  private readonly credentials = new Map<string, Buffer>();
  private readonly connections = new Map<string, AgentConnection>();
  private readonly waiters = new Map<string, Set<(connection: AgentConnection) => void>>();
  /** Per node, per agent session: the report numbers recorded and not yet known to be acknowledged. */
  private readonly recorded = new Map<string, Map<string, Set<number>>>();
  /** Settles once every report handed on so far is recorded. */
  private recording: Promise<void> = Promise.resolve();
  /** Loaded with the first agent's connection, not at start: `ws` is about a tenth of a second of a server's start-up (bench/README.md). */
  private sockets: Promise<WebSocketServer> | undefined;
  private server: http.Server | undefined;

  constructor(private readonly events: AgentHubEvents) {}

  /** Listens on a port of its own (loopback for agents on this host; any free port unless told); answers the URL agents connect to. */
  async listen(host: string, port = 0): Promise<string> {
    const server = http.createServer((_request, response) => response.writeHead(404).end());
    server.on('upgrade', (request, socket, head) => this.upgrade(request, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    return `ws://${host.includes(':') ? `[${host}]` : host}:${bound}${AGENT_PATH}`;
  }

  /** A new credential for the node's agent; any earlier one stops working. */
  issueCredential(nodeId: string): string {
    const token = randomBytes(32).toString('base64url');
    this.credentials.set(nodeId, digest(token));
    return token;
  }

  /** The node is gone: its credential stops working and its agent is disconnected. */
  revoke(nodeId: string): void {
    this.credentials.delete(nodeId);
    this.recorded.delete(nodeId);
    this.connections.get(nodeId)?.close();
    this.connections.delete(nodeId);
  }

  connection(nodeId: string): AgentConnection | undefined {
    return this.connections.get(nodeId);
  }

  /** The node's agent once it has connected; rejected after `timeoutMs`, or when `abandoned` says so first. */
  waitForConnection(nodeId: string, timeoutMs: number, abandoned: Promise<Error>): Promise<AgentConnection> {
    const existing = this.connections.get(nodeId);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const waiters = this.waiters.get(nodeId) ?? new Set();
      this.waiters.set(nodeId, waiters);
      const done = (connection: AgentConnection) => {
        clearTimeout(timer);
        resolve(connection);
      };
      const giveUp = (error: Error) => {
        clearTimeout(timer);
        waiters.delete(done);
        reject(error);
      };
      const timer = setTimeout(() => giveUp(new Error(`The agent of node ${nodeId} did not connect within ${timeoutMs} ms.`)), timeoutMs);
      waiters.add(done);
      void abandoned.then(giveUp);
    });
  }

  async close(): Promise<void> {
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
    void this.sockets?.then((sockets) => sockets.close());
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const nodeId = this.authenticate(request);
    if (!nodeId) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // Until ws takes the socket over, a reset must not reach the process as an unhandled 'error'.
    const dropped = () => socket.destroy();
    socket.on('error', dropped);
    this.sockets ??= import('ws').then(({ WebSocketServer }) => new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES }));
    void this.sockets.then((sockets) => {
      socket.off('error', dropped);
      if (socket.destroyed || !this.server) {
        socket.destroy();
        return;
      }
      sockets.handleUpgrade(request, socket, head, (webSocket) => this.admit(nodeId, webSocket, socket));
    }, dropped);
  }

  /** The node the request's credential belongs to, compared in constant time; undefined when it is none. */
  private authenticate(request: http.IncomingMessage): string | undefined {
    if (new URL(request.url ?? '/', 'ws://agent').pathname !== AGENT_PATH) return undefined;
    const [scheme, value] = (request.headers.authorization ?? '').split(' ', 2);
    if (scheme !== AGENT_AUTH_SCHEME || !value) return undefined;
    const separator = value.lastIndexOf(':');
    const nodeId = value.slice(0, separator);
    const expected = this.credentials.get(nodeId);
    if (separator <= 0 || !expected) return undefined;
    return timingSafeEqual(expected, digest(value.slice(separator + 1))) ? nodeId : undefined;
  }

  private admit(nodeId: string, webSocket: WebSocket, transport: Corkable): void {
    const connection = new AgentConnection(webSocket, transport, {
      request: (body) => this.events.request(nodeId, body as AgentRequest),
      notice: (frame) => this.notice(nodeId, connection, frame),
      closed: () => {
        if (this.connections.get(nodeId) === connection) this.connections.delete(nodeId);
      },
    });
    this.connections.get(nodeId)?.close();
    this.connections.set(nodeId, connection);
    const waiters = this.waiters.get(nodeId);
    this.waiters.delete(nodeId);
    for (const waiter of waiters ?? []) waiter(connection);
  }

  private notice(nodeId: string, connection: AgentConnection, frame: Frame): void {
    if (frame.type === 'heartbeat') this.events.heartbeat(nodeId, frame.sample === undefined ? undefined : nodeUsageSampleOf(frame.sample));
    else if (frame.type === 'reports') {
      const sessions = this.recorded.get(nodeId) ?? new Map<string, Set<number>>();
      this.recorded.set(nodeId, sessions);
      const seen = sessions.get(frame.session) ?? new Set<number>();
      sessions.set(frame.session, seen);
      for (const seq of seen) if (seq < frame.ackedBelow) seen.delete(seq);
      const fresh = frame.reports.filter((report) => report.seq >= frame.ackedBelow && !seen.has(report.seq));
      for (const report of fresh) seen.add(report.seq);
      const recorded = fresh.length > 0 ? this.events.reports(nodeId, fresh.map((report) => report.report)) : undefined;
      // The agent forgets what is acknowledged: acknowledge once recorded; a replay of a report still being recorded waits for it too.
      this.recording = Promise.all([this.recording, recorded]).then(() => undefined);
      const seqs = frame.reports.map((report) => report.seq);
      void this.recording.then(() => connection.acknowledge(seqs));
    }
  }
}

/** The server's connection to one node's agent. */
export class AgentConnection {
  private readonly peer: AgentPeer;
  readonly files: NodeFileSystem;

  constructor(webSocket: WebSocket, transport: Corkable, handlers: ConstructorParameters<typeof AgentPeer>[1]) {
    this.peer = new AgentPeer(webSocket, handlers, transport);
    this.files = new RemoteNodeFiles(this.peer);
  }

  request<T>(body: ServerRequest): Promise<T> {
    return this.peer.request<T>(body);
  }

  /** Hands the agent a run; false when it is not connected (the run is lost with the node). */
  startRun(run: TaskRun, serverTime: Date): boolean {
    return this.peer.send({ type: 'run', run, serverTime: serverTime.getTime() });
  }

  acknowledge(seqs: number[]): void {
    this.peer.send({ type: 'ack', seqs });
  }

  close(): void {
    void this.peer.close();
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
