// Request bodies of the compute node operations.

import { z } from 'zod';
import { lowerEnum } from './validate.js';

export const nodeDisableSchedulingSchema = z.looseObject({
  nodeDisableSchedulingOption: lowerEnum(['requeue', 'terminate', 'taskcompletion']).optional(),
});

const restartOption = () => lowerEnum(['requeue', 'terminate', 'taskcompletion', 'retaineddata']);

export const nodeRebootSchema = z.looseObject({ nodeRebootOption: restartOption().optional() });

export const nodeReimageSchema = z.looseObject({ nodeReimageOption: restartOption().optional() });
