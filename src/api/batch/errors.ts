// The one place Batch errors become HTTP: a status per error kind and
// Batch's error envelope { odata.metadata, code, message{lang,value}, values }.

import type { BatchError, BatchErrorKind } from '../../core/errors.js';

const STATUS: Record<BatchErrorKind, number> = {
  badRequest: 400,
  authentication: 403,
  notFound: 404,
  methodNotAllowed: 405,
  conflict: 409,
  conditionNotMet: 412,
  notModified: 304,
  // Batch answers OperationTimedOut with 500 when it runs out of time; a client that stops sending is the client's fault.
  requestTimeout: 408,
  tooLarge: 413,
  rangeNotSatisfiable: 416,
  internal: 500,
  serverBusy: 503,
};

export function statusOf(error: BatchError): number {
  return STATUS[error.kind];
}

/** The error object as Batch writes it, inside a body or an addCollection result. */
export function errorBody(error: BatchError, requestId: string, now = new Date()) {
  const body: Record<string, unknown> = {
    code: error.code,
    message: { lang: 'en-US', value: `${error.message}\nRequestId:${requestId}\nTime:${now.toISOString()}` },
  };
  if (error.values.length > 0) body.values = error.values;
  return body;
}

export function errorEnvelope(error: BatchError, requestId: string, baseUrl: string) {
  return { 'odata.metadata': `${baseUrl}/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element`, ...errorBody(error, requestId) };
}
