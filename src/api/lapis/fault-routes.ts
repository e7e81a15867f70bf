// The failure-injection API (lapis serve --faults, docs/testing-your-batch-app.md):
//
//   POST   /lapis/faults        adds a fault (core/faults.ts reads the body): 201 and the fault
//   GET    /lapis/faults        the caller's account's faults: {"value": [...]}
//   GET    /lapis/faults/kinds  each kind of fault and what it does: {"value": [{type, description}]}
//   DELETE /lapis/faults/{id}   ends one: 200
//
// SharedKey signed like any Batch request (app.ts authenticates first), each
// acting on the signing account's faults only. A task's authentication token
// is refused: code under test must not steer its own failures. Without
// --faults every one answers 404 ResourceNotFound.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { batchErrors } from '../../core/errors.js';
import { FAULT_KINDS, parseFaultSpec, type FaultInjection } from '../../core/faults.js';
import { parseJsonBody } from '../batch/wire.js';

const JSON_TYPE = 'application/json; charset=utf-8';

export function registerFaultRoutes(app: FastifyInstance, faults: FaultInjection | undefined): void {
  const accountOf = (request: FastifyRequest): { account: string; faults: FaultInjection } => {
    if (!faults) throw batchErrors.faultInjectionOff();
    if (request.tokenScope) throw batchErrors.insufficientAccountPermissions('A task authentication token cannot inject faults: sign with the account key.');
    return { account: request.batchAccount as string, faults };
  };
  const send = (reply: FastifyReply, status: number, body?: unknown) => {
    reply.header('request-id', reply.request.id).code(status);
    return body === undefined ? reply.send() : reply.header('Content-Type', JSON_TYPE).send(JSON.stringify(body));
  };

  app.post('/lapis/faults', { config: { operationId: 'Lapis_AddFault' } }, async (request, reply) => {
    const { account, faults: injection } = accountOf(request);
    return send(reply, 201, injection.add(account, parseFaultSpec(parseJsonBody(request.body))));
  });
  app.get('/lapis/faults', { config: { operationId: 'Lapis_ListFaults' } }, async (request, reply) => {
    const { account, faults: injection } = accountOf(request);
    return send(reply, 200, { value: injection.list(account) });
  });
  app.get('/lapis/faults/kinds', { config: { operationId: 'Lapis_ListFaultKinds' } }, async (request, reply) => {
    accountOf(request);
    return send(reply, 200, { value: FAULT_KINDS });
  });
  app.delete('/lapis/faults/:faultId', { config: { operationId: 'Lapis_DeleteFault' } }, async (request, reply) => {
    const { account, faults: injection } = accountOf(request);
    injection.remove(account, (request.params as { faultId: string }).faultId);
    return send(reply, 200);
  });
}
