// Request bodies checked against @azure/batch's mappers (schemas/mappers.ts),
// before each body's zod schema: required properties, types, enums, list
// limits, each error naming the property path as Batch does.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBatchError } from '../../src/core/errors.js';
import { poolAddBody, poolPatchEmptyPoolBody } from '../../src/api/batch/schemas/pool.js';
import { checkAgainstMapper, modelMapper, type BodyMapperName } from '../../src/api/batch/schemas/mappers.js';
import { taskCollectionBody } from '../../src/api/batch/schemas/task.js';
import { parseBody } from '../../src/api/batch/schemas/validate.js';

/** Asserts that `run` throws Batch's `code`, naming `property`. */
function refused(run: () => unknown, code: string, property: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isBatchError(error), String(error));
    assert.equal(error.code, code);
    assert.equal(error.values.find((value) => value.key === 'PropertyName')?.value, property);
    return true;
  });
}

const pool = { id: 'p', vmSize: 'standard_d2s_v3', virtualMachineConfiguration: { imageReference: { publisher: 'canonical' }, nodeAgentSKUId: 'batch.node.ubuntu 22.04' }, targetDedicatedNodes: 1 };

describe('checkAgainstMapper', () => {
  test('every request body model it names exists in @azure/batch', () => {
    const names: BodyMapperName[] = [
      'PoolAddParameter', 'PoolPatchParameter', 'PoolUpdatePropertiesParameter', 'PoolResizeParameter', 'PoolEnableAutoScaleParameter',
      'PoolEvaluateAutoScaleParameter', 'NodeRemoveParameter', 'JobAddParameter', 'JobPatchParameter', 'JobUpdateParameter', 'JobDisableParameter',
      'JobTerminateParameter', 'JobScheduleAddParameter', 'JobSchedulePatchParameter', 'JobScheduleUpdateParameter', 'TaskAddParameter',
      'TaskAddCollectionParameter', 'TaskUpdateParameter', 'CertificateAddParameter', 'ComputeNodeUser', 'NodeUpdateUserParameter',
      'NodeRebootParameter', 'NodeReimageParameter', 'NodeDisableSchedulingParameter', 'UploadBatchServiceLogsConfiguration',
    ];
    for (const name of names) assert.equal(modelMapper(name)?.type.name, 'Composite', name);
  });

  test('a valid body passes, unknown properties included', () => {
    checkAgainstMapper('PoolAddParameter', { ...pool, resourceTags: { team: 'a' }, somethingNew: [1] });
  });

  test('a missing required property is MissingRequiredProperty, at any depth', () => {
    refused(() => checkAgainstMapper('PoolAddParameter', { id: 'p' }), 'MissingRequiredProperty', 'vmSize');
    refused(() => checkAgainstMapper('JobAddParameter', { id: 'j' }), 'MissingRequiredProperty', 'poolInfo');
    refused(
      () => checkAgainstMapper('PoolAddParameter', { ...pool, virtualMachineConfiguration: { imageReference: {} } }),
      'MissingRequiredProperty',
      'virtualMachineConfiguration.nodeAgentSKUId',
    );
    refused(
      () => checkAgainstMapper('TaskAddParameter', { id: 't', commandLine: 'x', outputFiles: [{ filePattern: '*', destination: {} }] }),
      'MissingRequiredProperty',
      'outputFiles[0].uploadOptions',
    );
  });

  test('a value of the wrong type is InvalidPropertyValue naming its path', () => {
    refused(() => checkAgainstMapper('PoolAddParameter', { ...pool, targetDedicatedNodes: '3' }), 'InvalidPropertyValue', 'targetDedicatedNodes');
    refused(() => checkAgainstMapper('PoolAddParameter', { ...pool, enableAutoScale: 'yes' }), 'InvalidPropertyValue', 'enableAutoScale');
    refused(() => checkAgainstMapper('PoolAddParameter', { ...pool, metadata: { name: 'a' } }), 'InvalidPropertyValue', 'metadata');
    refused(() => checkAgainstMapper('PoolAddParameter', { ...pool, startTask: 'echo' }), 'InvalidPropertyValue', 'startTask');
    refused(
      () => checkAgainstMapper('TaskAddParameter', { id: 't', commandLine: 'x', environmentSettings: [{ name: 'A', value: 1 }] }),
      'InvalidPropertyValue',
      'environmentSettings[0].value',
    );
  });

  test('durations, date-times and enums are checked; enums in any case', () => {
    refused(() => checkAgainstMapper('PoolAddParameter', { ...pool, resizeTimeout: 'soon' }), 'InvalidPropertyValue', 'resizeTimeout');
    refused(() => checkAgainstMapper('ComputeNodeUser', { name: 'u', expiryTime: 'tomorrow' }), 'InvalidPropertyValue', 'expiryTime');
    checkAgainstMapper('PoolAddParameter', { ...pool, taskSchedulingPolicy: { nodeFillType: 'Pack' } });
    refused(
      () => checkAgainstMapper('PoolAddParameter', { ...pool, taskSchedulingPolicy: { nodeFillType: 'diagonal' } }),
      'InvalidPropertyValue',
      'taskSchedulingPolicy.nodeFillType',
    );
  });

  test('list limits of the model apply', () => {
    const tasks = Array.from({ length: 101 }, (_, index) => ({ id: `t${index}`, commandLine: 'x' }));
    refused(() => checkAgainstMapper('TaskAddCollectionParameter', { value: tasks }), 'InvalidPropertyValue', 'value');
    refused(() => checkAgainstMapper('NodeRemoveParameter', { nodeList: Array.from({ length: 101 }, String) }), 'InvalidPropertyValue', 'nodeList');
  });
});

describe('parseBody', () => {
  test('checks the model first, then the schema', () => {
    // The model says the type; the schema says the range.
    refused(() => parseBody(poolAddBody, { ...pool, taskSlotsPerNode: 'many' }), 'InvalidPropertyValue', 'taskSlotsPerNode');
    refused(() => parseBody(poolAddBody, { ...pool, taskSlotsPerNode: 1000 }), 'InvalidPropertyValue', 'taskSlotsPerNode');
    refused(() => parseBody(taskCollectionBody, { value: [{ id: 't' }] }), 'MissingRequiredProperty', 'value[0].commandLine');
  });

  test('networkConfiguration follows the spec', () => {
    const natPool = { name: 'ssh', protocol: 'tcp', backendPort: 2222, frontendPortRangeStart: 15000, frontendPortRangeEnd: 15100 };
    const network = (pools: unknown[]) => ({ ...pool, networkConfiguration: { subnetId: '/subscriptions/s/x', endpointConfiguration: { inboundNATPools: pools } } });
    assert.equal(parseBody(poolAddBody, network([natPool])).networkConfiguration !== undefined, true);
    refused(
      () => parseBody(poolAddBody, network([{ ...natPool, protocol: undefined }])),
      'MissingRequiredProperty',
      'networkConfiguration.endpointConfiguration.inboundNATPools[0].protocol',
    );
    refused(() => parseBody(poolAddBody, network([{ ...natPool, protocol: 'icmp' }])), 'InvalidPropertyValue', 'networkConfiguration.endpointConfiguration.inboundNATPools[0].protocol');
    refused(() => parseBody(poolAddBody, network([{ ...natPool, backendPort: 22 }])), 'InvalidPropertyValue', 'networkConfiguration.endpointConfiguration.inboundNATPools[0].backendPort');
    refused(
      () => parseBody(poolAddBody, network([{ ...natPool, frontendPortRangeEnd: 14000 }])),
      'InvalidPropertyValue',
      'networkConfiguration.endpointConfiguration.inboundNATPools[0].frontendPortRangeEnd',
    );
    refused(
      () => parseBody(poolAddBody, { ...pool, networkConfiguration: { dynamicVNetAssignmentScope: 'everything' } }),
      'InvalidPropertyValue',
      'networkConfiguration.dynamicVNetAssignmentScope',
    );
  });

  test('mountConfiguration follows the spec: exactly one file system, with its required fields', () => {
    const nfs = { nfsMountConfiguration: { source: 'host:/export', relativeMountPath: 'data' } };
    assert.deepEqual(parseBody(poolAddBody, { ...pool, mountConfiguration: [nfs] }).mountConfiguration, [nfs]);
    refused(() => parseBody(poolAddBody, { ...pool, mountConfiguration: [{}] }), 'InvalidPropertyValue', 'mountConfiguration[0]');
    refused(
      () => parseBody(poolAddBody, { ...pool, mountConfiguration: [{ ...nfs, cifsMountConfiguration: { username: 'u', source: 's', relativeMountPath: 'c', password: 'p' } }] }),
      'InvalidPropertyValue',
      'mountConfiguration[0]',
    );
    refused(
      () => parseBody(poolAddBody, { ...pool, mountConfiguration: [{ cifsMountConfiguration: { username: 'u', source: 's', relativeMountPath: 'c' } }] }),
      'MissingRequiredProperty',
      'mountConfiguration[0].cifsMountConfiguration.password',
    );
    refused(
      () => parseBody(poolAddBody, { ...pool, mountConfiguration: [{ azureBlobFileSystemConfiguration: { accountName: 'a', containerName: 'c', relativeMountPath: 'b' } }] }),
      'InvalidPropertyValue',
      'mountConfiguration[0].azureBlobFileSystemConfiguration',
    );
    // The wider Pool_Patch of 2024-07-01.20.0 has no model in the 2022 client: its schema alone checks the same shape.
    refused(() => parseBody(poolPatchEmptyPoolBody, { mountConfiguration: [{ nfsMountConfiguration: { source: 's' } }] }), 'MissingRequiredProperty', 'mountConfiguration[0].nfsMountConfiguration.relativeMountPath');
  });
});
