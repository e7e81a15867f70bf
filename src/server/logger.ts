// Structured logs (pino). Secrets never reach a log line: Authorization
// headers, SAS signatures, keys and environment values are redacted.

import pino, { type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'lapis' },
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.key', '*.accountKey', '*.password', '*.environmentSettings', 'err.config'],
      censor: '[redacted]',
    },
  });
}
