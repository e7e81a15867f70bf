// The agent's side of the agent protocol: connects to the server with the
// node's credential and keeps connecting (backing off to a few seconds)
// whenever the connection drops; answers the server's requests; and keeps
// every run report until the server acknowledges it, sending what is
// unacknowledged again after each reconnect. Reports that end in the same
// tick travel in one frame.

import { randomBytes } from 'node:crypto';
import type { NodeUsageSample } from '../../core/node-usage.js';
import type { TaskRun, TaskRunReport } from '../../core/ports.js';
import { AgentPeer, ConnectionClosed } from './peer.js';
import { AGENT_AUTH_SCHEME, type AgentRequest, type Frame, type ServerRequest } from './protocol.js';

export interface AgentClientOptions {
  url: string;
  nodeId: string;
  credential: string;
  /** Answers the server's requests. */
  request(body: ServerRequest): Promise<unknown>;
  run(run: TaskRun, serverTime: number): void;
  /** The server refused the credential: this agent's node is gone. */
  refused(): void;
}

const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 3_000;

export class AgentClient {
  private peer: AgentPeer | undefined;
  private connecting: Promise<AgentPeer> | undefined;
  private closing = false;
  private retryMs = FIRST_RETRY_MS;
  /** Names this process's reports: a restarted agent numbers its own from 1 again. */
  private readonly session = randomBytes(8).toString('hex');
  private nextSeq = 1;
  private readonly outbox = new Map<number, { report: TaskRunReport; acknowledged: () => void }>();
  private readonly unsent: number[] = [];
  private flushScheduled = false;

  constructor(private readonly options: AgentClientOptions) {}

  /** Resolves once connected the first time. */
  connect(): Promise<void> {
    return this.connected().then(() => undefined);
  }

  heartbeat(sample?: NodeUsageSample): void {
    this.peer?.send(sample ? { type: 'heartbeat', sample } : { type: 'heartbeat' });
  }

  /** A run ended: the report is kept until the server acknowledges it, which resolves the promise. */
  report(report: TaskRunReport): Promise<void> {
    const seq = this.nextSeq++;
    const acknowledged = new Promise<void>((resolve) => this.outbox.set(seq, { report, acknowledged: resolve }));
    this.unsent.push(seq);
    this.scheduleFlush();
    return acknowledged;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush(this.unsent.splice(0));
    });
  }

  /** Asks the server; waits for a connection first. */
  async request<T>(body: AgentRequest): Promise<T> {
    return (await this.connected()).request<T>(body);
  }

  /**
   * Asks the server until it answers: a request the connection dropped is
   * asked again once it is back. Only for requests the server answers the
   * same however often asked (container.run).
   */
  async requestUntilAnswered<T>(body: AgentRequest): Promise<T> {
    for (;;) {
      try {
        return await this.request<T>(body);
      } catch (error) {
        if (!(error instanceof ConnectionClosed)) throw error;
      }
    }
  }

  /** Asks the server for a value and content after it (packages.read); waits for a connection first. */
  async requestStream<T>(body: AgentRequest): Promise<{ value: T; content: AsyncIterable<Uint8Array> }> {
    return (await this.connected()).requestStream<T>(body);
  }

  /** Resolves once the connection, if any, has closed. */
  close(): Promise<void> {
    this.closing = true;
    return this.peer?.close() ?? Promise.resolve();
  }

  private flush(seqs: number[]): void {
    const reports = seqs.flatMap((seq) => {
      const entry = this.outbox.get(seq);
      return entry ? [{ seq, report: entry.report }] : [];
    });
    if (reports.length === 0) return;
    const ackedBelow = Math.min(this.nextSeq, ...this.outbox.keys());
    // Not connected: everything unacknowledged goes again once the connection is back.
    this.peer?.send({ type: 'reports', session: this.session, ackedBelow, reports });
  }

  private connected(): Promise<AgentPeer> {
    if (this.peer?.open) return Promise.resolve(this.peer);
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<AgentPeer> {
    for (;;) {
      if (this.closing) throw new Error('The agent is closing.');
      const attempt = await this.attempt();
      if (attempt === 'refused') {
        this.options.refused();
        throw new Error('The server refused this node credential.');
      }
      if (attempt) return attempt;
      await new Promise((resolve) => setTimeout(resolve, this.retryMs));
      this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
    }
  }

  private async attempt(): Promise<AgentPeer | 'refused' | undefined> {
    // Imported here, not at the top: `lapis` is one bundle, and a static import would load ws at every `lapis serve`'s start.
    const { WebSocket } = await import('ws');
    return new Promise((resolve) => {
      const socket = new WebSocket(this.options.url, {
        headers: { authorization: `${AGENT_AUTH_SCHEME} ${this.options.nodeId}:${this.options.credential}` },
        perMessageDeflate: false,
      });
      socket.once('unexpected-response', (_request, response) => {
        socket.terminate();
        resolve(response.statusCode === 401 ? 'refused' : undefined);
      });
      socket.once('error', () => resolve(undefined));
      socket.once('open', () => {
        this.retryMs = FIRST_RETRY_MS;
        const peer = new AgentPeer(socket, {
          request: (body) => this.options.request(body as ServerRequest),
          notice: (frame) => this.notice(frame),
          closed: () => this.lost(peer),
        });
        this.peer = peer;
        this.flush([...this.outbox.keys()]);
        resolve(peer);
      });
    });
  }

  private notice(frame: Frame): void {
    if (frame.type === 'run') this.options.run(frame.run, frame.serverTime);
    else if (frame.type === 'ack') {
      for (const seq of frame.seqs) {
        this.outbox.get(seq)?.acknowledged();
        this.outbox.delete(seq);
      }
    }
  }

  /** The connection dropped: connect again (what is unacknowledged is sent then). */
  private lost(peer: AgentPeer): void {
    if (this.peer !== peer) return;
    this.peer = undefined;
    if (!this.closing) this.connected().catch(() => undefined);
  }
}
