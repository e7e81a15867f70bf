// Request bodies of the compute node operations.

import { z } from 'zod';
import { lowerEnum } from './validate.js';

export const nodeDisableSchedulingSchema = z.looseObject({
  nodeDisableSchedulingOption: lowerEnum(['requeue', 'terminate', 'taskcompletion']).optional(),
});
