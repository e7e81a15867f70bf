// A body over the limit is answered 413 RequestBodyTooLarge, and the
// connection then closes, but in stages, as RFC 9112 §9.6 asks of a server
// that closes while the client may still be sending: the answer first, then
// what the client still sends of its body is read and dropped, and only then
// is the connection closed. Closing at once, with the body still arriving,
// makes the kernel answer it with a reset, and a client still writing sees
// `write EPIPE` or `ECONNRESET` instead of the 413 (Python's azure-batch
// splits a task collection on that 413). Not even a half-close is sent
// before the body is in: Node's clients end their side on the server's FIN,
// and their remaining writes then fail the same way. What is dropped is
// bounded in bytes and in time; past either the connection is cut.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** How much of a refused body is read and dropped before the connection is cut. */
const MAX_DRAINED_BYTES = 32 * 1024 * 1024;
/** How long the client has to finish sending its body after the answer. */
const MAX_LINGER_MS = 10_000;

/** Sockets answered here: the request timeout, should the body never come, must not answer them again. */
const answered = new WeakSet<Socket>();

export function isAnsweredOversized(socket: Socket): boolean {
  return answered.has(socket);
}

/**
 * Writes the answer (`headers` as set on the reply, and `body`) straight to
 * the socket, drains the request and closes once it is in; Fastify and Node
 * no longer handle this reply.
 */
export function answerThenCloseInStages(request: FastifyRequest, reply: FastifyReply, status: number, body: Buffer): void {
  const headers = reply.getHeaders();
  reply.hijack();
  const socket = request.raw.socket;
  answered.add(socket);
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'connection' || name === 'content-length') continue;
    lines.push(`${name}: ${Array.isArray(value) ? value.join(', ') : String(value)}`);
  }
  lines.push(`content-length: ${body.length}`, 'connection: close');
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  socket.write(body);

  const timer = setTimeout(() => socket.destroy(), MAX_LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  const close = (): void => void socket.end();
  if (request.raw.readableEnded) return close();
  let drained = 0;
  request.raw.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAINED_BYTES) socket.destroy();
  });
  request.raw.once('end', close);
  request.raw.resume();
}
