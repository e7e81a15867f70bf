// Request bodies of the compute node operations.

import { z } from 'zod';
import type { DisableSchedulingOption, NodeRestartOption, NodeUserSpec } from '../../../core/node.js';
import { lowerEnum, requestBody, timestamp } from './validate.js';

export const nodeDisableSchedulingBody = requestBody<{ nodeDisableSchedulingOption?: DisableSchedulingOption }>(
  'NodeDisableSchedulingParameter',
  z.looseObject({ nodeDisableSchedulingOption: lowerEnum(['requeue', 'terminate', 'taskcompletion']).optional() }),
);

const restartOption = () => lowerEnum(['requeue', 'terminate', 'taskcompletion', 'retaineddata']);

export const nodeRebootBody = requestBody<{ nodeRebootOption?: NodeRestartOption }>('NodeRebootParameter', z.looseObject({ nodeRebootOption: restartOption().optional() }));

export const nodeReimageBody = requestBody<{ nodeReimageOption?: NodeRestartOption }>('NodeReimageParameter', z.looseObject({ nodeReimageOption: restartOption().optional() }));

const userName = () =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, { message: 'A user name holds letters, digits, underscores, dots and hyphens.' });

export const nodeAddUserBody = requestBody<NodeUserSpec>(
  'ComputeNodeUser',
  z.looseObject({
    name: userName(),
    isAdmin: z.boolean().optional(),
    expiryTime: timestamp().optional(),
    password: z.string().max(256).optional(),
    sshPublicKey: z.string().max(8192).optional(),
  }),
);

export const nodeUpdateUserBody = requestBody<Omit<NodeUserSpec, 'name' | 'isAdmin'>>(
  'NodeUpdateUserParameter',
  z.looseObject({
    expiryTime: timestamp().optional(),
    password: z.string().max(256).optional(),
    sshPublicKey: z.string().max(8192).optional(),
  }),
);

/** ComputeNode_Deallocate is of 2024-07-01.20.0: the 2022-10-01.16.0 client has no model of its body. */
export const nodeDeallocateBody = requestBody<{ nodeDeallocateOption?: NodeRestartOption }>(undefined, z.looseObject({ nodeDeallocateOption: restartOption().optional() }));

export const nodeUploadLogsBody = requestBody<{ containerUrl: string; startTime: string; endTime?: string }>(
  'UploadBatchServiceLogsConfiguration',
  z.looseObject({
    containerUrl: z.string().url(),
    startTime: timestamp(),
    endTime: timestamp().optional(),
  }),
);
