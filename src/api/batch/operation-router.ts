// The Batch operations matched by path outside Fastify's own router: the
// dashboard's /ui/api/batch/<Batch path> (app.ts). find-my-way is the router
// Fastify itself uses, given the same options as app.ts gives Fastify's, so a
// path matches here exactly when it matches the API's own route, with the
// same decoded parameters.

import FindMyWay, { type HTTPMethod } from 'find-my-way';
import type { Operation } from './operation.js';

export interface OperationRouter {
  find(method: string, path: string): { operation: Operation; params: Record<string, string> } | undefined;
}

export function operationRouter(operations: readonly Operation[], maxParamLength: number): OperationRouter {
  const router = FindMyWay({ caseSensitive: false, ignoreTrailingSlash: true, maxParamLength });
  for (const operation of operations) router.on(operation.method, operation.path, () => undefined, operation);
  return {
    find(method, path) {
      const found = router.find(method as HTTPMethod, path);
      if (!found) return undefined;
      const params: Record<string, string> = {};
      for (const [name, value] of Object.entries(found.params)) if (value !== undefined) params[name] = value;
      return { operation: found.store as Operation, params };
    },
  };
}
