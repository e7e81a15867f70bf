// Structured logs (pino). Secrets never reach a log line: Authorization
// headers, SAS signatures, keys and environment values are redacted.
//
// Where lines go (logDestination): a terminal gets them pretty (pino-pretty:
// time, level, the message, which already names the resource and what
// happened); anything else (a pipe, a file, a log collector) gets JSON lines;
// --log-file adds JSON lines in a file beside the terminal's.

import fs from 'node:fs';
import path from 'node:path';
import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import { createRequire } from 'node:module';
import type pretty from 'pino-pretty';

/** JSON lines to stdout, or to `destination` (tests read what was logged). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'lapis' },
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.key', '*.accountKey', '*.password', '*.environmentSettings', 'err.config'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** What a request line says on a terminal: `GET /pools 200 3 ms (Pool_List)`. */
function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const message = String(log[messageKey] ?? '');
  if (message !== 'request' || typeof log.method !== 'string') return message;
  return `${log.method} ${log.url} ${log.status} ${log.ms} ms${log.account ? ` [${log.account}]` : ''}`;
}

export interface LogOutput {
  level: string;
  /** The terminal's file descriptor: 1 (stdout), or 2 when stdout carries something else. */
  fd: 1 | 2;
  /** Pretty lines rather than JSON (when `fd` is a terminal). */
  pretty: boolean;
  /** Also JSON lines appended to this file (made with its directory if need be). */
  file?: string;
}

export function logDestination(output: LogOutput): DestinationStream {
  const terminal: DestinationStream = output.pretty
    ? // Loaded for a terminal only: a server whose output is piped or logged does without its 40 ms of loading.
      (createRequire(import.meta.url)('pino-pretty') as typeof pretty)({
        destination: output.fd,
        sync: true,
        colorize: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,service,event,reqId,requestId,method,url,status,ms,account',
        messageFormat: prettyMessage,
      })
    : pino.destination({ fd: output.fd, sync: true });
  if (!output.file) return terminal;
  fs.mkdirSync(path.dirname(path.resolve(output.file)), { recursive: true });
  const file = pino.destination({ dest: output.file, sync: true, append: true });
  // Each stream of a multistream has its own level, `info` unless told: the logger's level decides, so each takes everything it passes.
  const level = (output.level === 'silent' ? 'fatal' : output.level) as Level;
  return pino.multistream([
    { level, stream: terminal },
    { level, stream: file },
  ]);
}
