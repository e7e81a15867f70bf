// Structured logs (pino). Secrets never reach a log line: Authorization
// headers, SAS signatures, keys and environment values are redacted.

import pino, { type DestinationStream, type Logger } from 'pino';

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
