// Request bodies of the compute node operations.

import { z } from 'zod';
import { lowerEnum, timestamp } from './validate.js';

export const nodeDisableSchedulingSchema = z.looseObject({
  nodeDisableSchedulingOption: lowerEnum(['requeue', 'terminate', 'taskcompletion']).optional(),
});

const restartOption = () => lowerEnum(['requeue', 'terminate', 'taskcompletion', 'retaineddata']);

export const nodeRebootSchema = z.looseObject({ nodeRebootOption: restartOption().optional() });

export const nodeReimageSchema = z.looseObject({ nodeReimageOption: restartOption().optional() });

const userName = () =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, { message: 'A user name holds letters, digits, underscores, dots and hyphens.' });

export const nodeAddUserSchema = z.looseObject({
  name: userName(),
  isAdmin: z.boolean().optional(),
  expiryTime: timestamp().optional(),
  password: z.string().max(256).optional(),
  sshPublicKey: z.string().max(8192).optional(),
});

export const nodeUpdateUserSchema = z.looseObject({
  expiryTime: timestamp().optional(),
  password: z.string().max(256).optional(),
  sshPublicKey: z.string().max(8192).optional(),
});

export const nodeDeallocateSchema = z.looseObject({ nodeDeallocateOption: restartOption().optional() });

export const nodeUploadLogsSchema = z.looseObject({
  containerUrl: z.string().url(),
  startTime: timestamp(),
  endTime: timestamp().optional(),
});
