// Pool operations: Pool_Add, Pool_List, Pool_Get, Pool_Exists, Pool_Delete,
// Pool_Patch, Pool_UpdateProperties, Pool_Resize, Pool_StopResize, Pool_RemoveNodes,
// Pool_EnableAutoScale, Pool_DisableAutoScale, Pool_EvaluateAutoScale. This file is the reference operation set to
// copy when adding the next resource (see CONTRIBUTING.md).

import { isBatchError } from '../../../core/errors.js';
import { withoutProtectedSettings } from '../../../core/node-extension.js';
import type { Pool } from '../../../core/pool.js';
import { operation, type BatchRequest, type Operation } from '../operation.js';
import {
  poolAddBody,
  poolEnableAutoScaleBody,
  poolEvaluateAutoScaleBody,
  poolPatchBody,
  poolPatchEmptyPoolBody,
  poolRemoveNodesBody,
  poolResizeBody,
  poolUpdatePropertiesBody,
} from '../schemas/pool.js';
import { poolSpecificationDefaults } from '../read-defaults/pool-settings.js';
import { parseBody } from '../schemas/validate.js';
import type { BatchServices } from '../services.js';
import { isAtLeast } from '../versions.js';
import { changedReply, createdReply, entityReply, listReply, metadataUrl, pageQuery, parseExpand } from '../wire.js';

export function poolUrl(request: BatchRequest, poolId: string): string {
  return `${request.baseUrl}/pools/${poolId}`;
}

export function poolToWire(request: BatchRequest, pool: Pool): object {
  const { id, displayName, userAccounts, virtualMachineConfiguration } = pool;
  const wire: Record<string, unknown> = Object.assign({ id, displayName, url: poolUrl(request, id) }, pool);
  if (Array.isArray(userAccounts)) wire.userAccounts = userAccounts.map(withoutSecrets);
  else delete wire.userAccounts;
  if (virtualMachineConfiguration) wire.virtualMachineConfiguration = withoutExtensionSecrets(virtualMachineConfiguration);
  return poolSpecificationDefaults(wire);
}

/** Extensions are answered without their protectedSettings. */
function withoutExtensionSecrets(configuration: NonNullable<Pool['virtualMachineConfiguration']>): Record<string, unknown> {
  const { extensions } = configuration as { extensions?: unknown };
  if (!Array.isArray(extensions)) return configuration;
  return { ...configuration, extensions: extensions.map(withoutProtectedSettings) } as Record<string, unknown>;
}

/** A pool user's password and SSH private key are never returned. */
function withoutSecrets(account: unknown): unknown {
  if (account === null || typeof account !== 'object') return account;
  const { password: _password, linuxUserConfiguration, ...rest } = account as Record<string, unknown>;
  if (linuxUserConfiguration && typeof linuxUserConfiguration === 'object') {
    const { sshPrivateKey: _key, ...linux } = linuxUserConfiguration as Record<string, unknown>;
    return { ...rest, linuxUserConfiguration: linux };
  }
  return rest;
}

export function poolOperations(services: BatchServices): Operation[] {
  const poolStats = (request: BatchRequest, pool: Pool) => ({
    stats: { url: `${poolUrl(request, pool.id)}/stats`, ...services.statistics.poolStatistics(request.caller, pool.id) },
  });
  return [
    operation({
      id: 'Pool_Add',
      method: 'POST',
      path: '/pools',
      handler(request) {
        const spec = parseBody(poolAddBody, request.body);
        const pool = services.pools.add(request.caller, spec);
        return createdReply(pool, poolUrl(request, pool.id));
      },
    }),
    operation({
      id: 'Pool_List',
      method: 'GET',
      path: '/pools',
      handler(request) {
        const page = services.pools.list(request.caller, pageQuery(request, 'pools'));
        const withStats = parseExpand(request).has('stats');
        const items = page.items.map((pool) => ({ ...poolToWire(request, pool), ...(withStats ? poolStats(request, pool) : {}) }));
        return listReply(request, 'pools', items, page.continuation);
      },
    }),
    operation({
      id: 'Pool_Get',
      method: 'GET',
      path: '/pools/:poolId',
      handler(request) {
        const pool = services.pools.get(request.caller, request.params.poolId, request.conditions);
        const stats = parseExpand(request).has('stats') ? poolStats(request, pool) : {};
        return entityReply(request, 'pools', pool, { ...poolToWire(request, pool), ...stats });
      },
    }),
    operation({
      id: 'Pool_Exists',
      method: 'HEAD',
      path: '/pools/:poolId',
      handler(request) {
        try {
          const pool = services.pools.get(request.caller, request.params.poolId, request.conditions);
          return changedReply(200, pool, poolUrl(request, pool.id));
        } catch (error) {
          if (isBatchError(error) && error.kind === 'notFound') return { status: 404 };
          throw error;
        }
      },
    }),
    operation({
      id: 'Pool_Delete',
      method: 'DELETE',
      path: '/pools/:poolId',
      handler(request) {
        services.pools.delete(request.caller, request.params.poolId, request.conditions);
        return { status: 202 };
      },
    }),
    operation({
      id: 'Pool_Resize',
      method: 'POST',
      path: '/pools/:poolId/resize',
      handler(request) {
        const body = parseBody(poolResizeBody, request.body);
        const pool = services.pools.resize(request.caller, request.params.poolId, body, request.conditions);
        return changedReply(202, pool, poolUrl(request, pool.id));
      },
    }),
    operation({
      id: 'Pool_StopResize',
      method: 'POST',
      path: '/pools/:poolId/stopresize',
      handler(request) {
        const pool = services.pools.stopResize(request.caller, request.params.poolId, request.conditions);
        return changedReply(202, pool, poolUrl(request, pool.id));
      },
    }),
    operation({
      id: 'Pool_Patch',
      method: 'PATCH',
      path: '/pools/:poolId',
      handler(request) {
        const changes = parseBody(poolPatchBody, request.body);
        const wider = isAtLeast(request.apiVersion, '2024-07-01.20.0') ? parseBody(poolPatchEmptyPoolBody, request.body) : undefined;
        const pool = services.pools.patch(request.caller, request.params.poolId, changes, request.conditions, wider);
        return changedReply(200, pool, poolUrl(request, pool.id));
      },
    }),
    operation({
      id: 'Pool_UpdateProperties',
      method: 'POST',
      path: '/pools/:poolId/updateproperties',
      handler(request) {
        const changes = parseBody(poolUpdatePropertiesBody, request.body);
        const pool = services.pools.updateProperties(request.caller, request.params.poolId, changes, request.conditions);
        return changedReply(204, pool, poolUrl(request, pool.id));
      },
    }),
    operation({
      id: 'Pool_RemoveNodes',
      method: 'POST',
      path: '/pools/:poolId/removenodes',
      handler(request) {
        const removal = parseBody(poolRemoveNodesBody, request.body);
        const poolId = request.params.poolId;
        const pool = services.nodes.removeNodes(request.caller, poolId, removal, request.conditions);
        return changedReply(202, pool, poolUrl(request, pool.id));
      },
    }),
    operation({
      id: 'Pool_EnableAutoScale',
      method: 'POST',
      path: '/pools/:poolId/enableautoscale',
      handler(request) {
        const settings = parseBody(poolEnableAutoScaleBody, request.body);
        const pool = services.pools.enableAutoScale(request.caller, request.params.poolId, settings, request.conditions);
        return changedReply(200, pool, poolUrl(request, pool.id));
      },
    }),
    operation({
      id: 'Pool_DisableAutoScale',
      method: 'POST',
      path: '/pools/:poolId/disableautoscale',
      handler(request) {
        const pool = services.pools.disableAutoScale(request.caller, request.params.poolId);
        return changedReply(200, pool, poolUrl(request, pool.id));
      },
    }),
    operation({
      id: 'Pool_EvaluateAutoScale',
      method: 'POST',
      path: '/pools/:poolId/evaluateautoscale',
      handler(request) {
        const { autoScaleFormula } = parseBody(poolEvaluateAutoScaleBody, request.body);
        const poolId = request.params.poolId;
        const run = services.pools.evaluateAutoScale(request.caller, poolId, autoScaleFormula);
        return {
          status: 200,
          body: { 'odata.metadata': metadataUrl(request, '@Element'), ...run },
          headers: { DataServiceId: poolUrl(request, poolId) },
        };
      },
    }),
  ];
}
