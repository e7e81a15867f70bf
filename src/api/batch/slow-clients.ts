// Clients that send a request too slowly, stop midway, or send what Node's
// HTTP parser refuses. These never reach a route, so the answer is written
// straight to the socket, still in Batch's error envelope.
//
// Why a request timeout: without one (Fastify's default), a client that
// sends its headers and then stalls its body holds a connection, a parser
// and a pending handler forever, and `stop()` waits for it. Node measures
// the timeout from the start of the request until its last byte arrived;
// a slow handler is not cut short. It only checks every
// connectionsCheckingInterval, so that interval follows the timeout.

import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { batchErrors, type BatchError } from '../../core/errors.js';
import { errorEnvelope, statusOf } from './errors.js';
import { isAnsweredOversized } from './oversized-bodies.js';

/** Node server options so that a whole request (headers and body) must arrive within `timeoutMs`. */
export function requestTimeoutOptions(timeoutMs: number) {
  return {
    requestTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    // Node's default check every 30 s would let a short timeout run far over.
    connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(timeoutMs / 4))),
  };
}

function batchErrorOf(error: NodeJS.ErrnoException): BatchError {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return batchErrors.requestTimedOut();
  // As for what Fastify refuses before a route (app.ts toBatchError): the request could not be read.
  return batchErrors.invalidRequestBody(`The request could not be read (${error.code ?? error.message}).`);
}

/** Fastify's clientErrorHandler: answer in Batch's envelope, then close the connection. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket, logger: Logger): void {
  // Nobody is left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // Answered 413 already, and the rest of the body never came (oversized-bodies.ts).
  if (isAnsweredOversized(socket)) return void socket.destroy();
  const batchError = batchErrorOf(error);
  const requestId = randomUUID();
  logger.warn({ requestId, code: error.code, remoteAddress: socket.remoteAddress }, 'request refused before routing');
  if (socket.writable) {
    // The envelope names the server's own address: there is no parsed Host header to take it from.
    const host = socket.localAddress?.includes(':') ? `[${socket.localAddress}]` : socket.localAddress;
    const baseUrl = `${'encrypted' in socket ? 'https' : 'http'}://${host}:${socket.localPort}`;
    const body = JSON.stringify(errorEnvelope(batchError, requestId, baseUrl));
    const status = statusOf(batchError);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
        'Content-Type: application/json;odata=minimalmetadata\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `request-id: ${requestId}\r\n` +
        'DataServiceVersion: 3.0\r\n' +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy(error);
}
