// One side of an agent connection: sends frames, matches replies to
// requests, answers the other side's requests, and carries a streamed
// answer (a file's content) as binary frames of at most CHUNK_BYTES, each
// prefixed with its request's id. Server and agent both use it.

import type { Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import { BatchError, isBatchError, type BatchErrorKind } from '../../core/errors.js';
import { isNodeStartFailure, NodeStartFailure } from '../../core/node-start-failure.js';
import type { AgentRequest, Frame, ServerRequest, WireError } from './protocol.js';

/** A request that got no answer because the connection closed: it may be asked again once reconnected. */
export class ConnectionClosed extends Error {}

/** A handler's answer that carries content after its value (files.read). */
export class StreamedAnswer {
  constructor(
    readonly value: unknown,
    readonly content: AsyncIterable<Uint8Array>,
  ) {}
}

export interface PeerHandlers {
  /** Answers a request of the other side; a thrown BatchError crosses the wire with its code. */
  request?(body: ServerRequest | AgentRequest): Promise<unknown>;
  /** Any frame that is not a request, a reply or a stream's part. */
  notice?(frame: Frame): void;
  closed?(): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  stream?: ChunkQueue;
}

const ID_BYTES = 4;

/** The byte stream under a WebSocket, when its owner has it (a server's upgraded socket). */
export type Corkable = Pick<Writable, 'cork' | 'uncork'>;

export class AgentPeer {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly streams = new Map<number, ChunkQueue>();
  private corked = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly handlers: PeerHandlers,
    /** Given: the frames sent in one turn of the event loop leave in one write (each write is a system call and wakes the other side). */
    private readonly transport?: Corkable,
  ) {
    socket.on('message', (data: Buffer, isBinary: boolean) => (isBinary ? this.receiveChunk(data) : this.receive(data)));
    socket.once('close', () => this.closed());
    socket.on('error', () => undefined);
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** Sends a frame; false when the connection is gone (the frame is dropped). */
  send(frame: Frame): boolean {
    if (!this.open) return false;
    if (this.transport && !this.corked) {
      this.corked = true;
      this.transport.cork();
      setImmediate(() => {
        this.corked = false;
        this.transport?.uncork();
      });
    }
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  request<T>(body: ServerRequest | AgentRequest): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (!this.send({ type: 'request', id, body })) this.fail(id, new ConnectionClosed('The node agent is not connected.'));
    });
  }

  /** A request answered by a value and then content (files.read, packages.read). */
  requestStream<T>(body: ServerRequest | AgentRequest): Promise<{ value: T; content: AsyncIterable<Uint8Array> }> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const stream = new ChunkQueue();
      this.pending.set(id, { resolve: (value) => resolve({ value: value as T, content: stream }), reject, stream });
      if (!this.send({ type: 'request', id, body })) this.fail(id, new ConnectionClosed('The node agent is not connected.'));
    });
  }

  /** Starts the closing handshake; resolves once the connection has closed (what was sent before it has been received). */
  close(): Promise<void> {
    if (this.socket.readyState === this.socket.CLOSED) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.close();
    return closed;
  }

  private receive(data: Buffer): void {
    let frame: Frame;
    try {
      frame = JSON.parse(data.toString('utf8')) as Frame;
    } catch {
      return;
    }
    if (frame.type === 'request') void this.answer(frame.id, frame.body);
    else if (frame.type === 'reply') this.settle(frame.id, frame);
    else if (frame.type === 'end') this.endStream(frame.id, frame.error);
    else this.handlers.notice?.(frame);
  }

  private receiveChunk(data: Buffer): void {
    if (data.length < ID_BYTES) return;
    this.streams.get(data.readUInt32BE(0))?.push(data.subarray(ID_BYTES));
  }

  private settle(id: number, reply: { value?: unknown; error?: WireError }): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    if (reply.error) {
      pending.reject(errorFromWire(reply.error));
      return;
    }
    if (pending.stream) this.streams.set(id, pending.stream);
    pending.resolve(reply.value);
  }

  private endStream(id: number, error: WireError | undefined): void {
    const stream = this.streams.get(id);
    this.streams.delete(id);
    if (error) stream?.fail(errorFromWire(error));
    else stream?.end();
  }

  private fail(id: number, error: Error): void {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    pending?.reject(error);
  }

  private async answer(id: number, body: ServerRequest | AgentRequest): Promise<void> {
    let answer: unknown;
    try {
      if (!this.handlers.request) throw new Error(`Nothing here answers '${body.op}'.`);
      answer = await this.handlers.request(body);
    } catch (error) {
      this.send({ type: 'reply', id, error: errorToWire(error) });
      return;
    }
    if (!(answer instanceof StreamedAnswer)) {
      this.send({ type: 'reply', id, value: answer });
      return;
    }
    this.send({ type: 'reply', id, value: answer.value });
    try {
      for await (const chunk of answer.content) await this.sendChunk(id, chunk);
      this.send({ type: 'end', id });
    } catch (error) {
      this.send({ type: 'end', id, error: errorToWire(error) });
    }
  }

  /** Waits until the chunk is handed to the OS, so a large file never piles up in memory on this side. */
  private sendChunk(id: number, chunk: Uint8Array): Promise<void> {
    const header = Buffer.alloc(ID_BYTES);
    header.writeUInt32BE(id, 0);
    return new Promise((resolve, reject) => {
      if (!this.open) {
        reject(new Error('The connection closed while a file was sent.'));
        return;
      }
      this.socket.send(Buffer.concat([header, chunk]), { binary: true }, (error) => (error ? reject(error) : resolve()));
    });
  }

  private closed(): void {
    const gone = new ConnectionClosed('The node agent disconnected.');
    for (const id of [...this.pending.keys()]) this.fail(id, gone);
    for (const stream of this.streams.values()) stream.fail(gone);
    this.streams.clear();
    this.handlers.closed?.();
  }
}

function errorToWire(error: unknown): WireError {
  if (isBatchError(error)) return { message: error.message, batch: { code: error.code, kind: error.kind, values: error.values } };
  if (isNodeStartFailure(error)) return { message: error.message, nodeError: error.nodeError };
  return { message: error instanceof Error ? error.message : String(error) };
}

function errorFromWire(error: WireError): Error {
  if (error.batch) return new BatchError(error.batch.code, error.batch.kind as BatchErrorKind, error.message, error.batch.values);
  if (error.nodeError) return new NodeStartFailure(error.nodeError);
  return new Error(error.message);
}

/** Chunks received for one streamed answer, read as an async iterable. */
class ChunkQueue implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private done = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.notify();
  }

  end(): void {
    this.done = true;
    this.notify();
  }

  fail(error: Error): void {
    this.error = error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk) {
        yield chunk;
        continue;
      }
      if (this.error) throw this.error;
      if (this.done) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
