// The defaults Batch fills in when it answers with a pool, a pool
// specification (an auto pool's) or a compute node. A pool stores its
// top-level defaults when it is added (core/pool.ts createPool); what it
// nests (the start task) and what an auto pool specification leaves out are
// filled here.

import { DEFAULT_RESIZE_TIMEOUT } from '../../../core/pool.js';
import { startTaskDefaults } from './task-settings.js';
import { isWireObject, type WireObject } from './wire-object.js';

/** A pool or pool specification: the start task's defaults, and the sizing and scheduling settings Batch reports. */
export function poolSpecificationDefaults<T extends object>(pool: T): T {
  const wire = pool as WireObject;
  const autoScale = wire.enableAutoScale === true;
  const filled: WireObject = {
    ...wire,
    taskSlotsPerNode: wire.taskSlotsPerNode ?? 1,
    taskSchedulingPolicy: wire.taskSchedulingPolicy ?? { nodeFillType: 'spread' },
    enableAutoScale: autoScale,
    enableInterNodeCommunication: wire.enableInterNodeCommunication ?? false,
  };
  // A fixed-size pool has a resize timeout and targets; an autoscale pool's come from its formula.
  if (!autoScale) {
    filled.resizeTimeout = wire.resizeTimeout ?? DEFAULT_RESIZE_TIMEOUT;
    filled.targetDedicatedNodes = wire.targetDedicatedNodes ?? 0;
    filled.targetLowPriorityNodes = wire.targetLowPriorityNodes ?? 0;
  }
  if (isWireObject(wire.startTask)) filled.startTask = startTaskDefaults(wire.startTask);
  if (isWireObject(wire.virtualMachineConfiguration)) filled.virtualMachineConfiguration = imageDefaults(wire.virtualMachineConfiguration);
  if (isWireObject(wire.cloudServiceConfiguration)) {
    filled.cloudServiceConfiguration = { ...wire.cloudServiceConfiguration, osVersion: wire.cloudServiceConfiguration.osVersion ?? '*' };
  }
  return filled as T;
}

/** A Marketplace image without a version is its latest version; a custom image (virtualMachineImageId) has none. */
function imageDefaults(configuration: WireObject): WireObject {
  const image = configuration.imageReference;
  if (!isWireObject(image) || image.virtualMachineImageId !== undefined || image.publisher === undefined) return configuration;
  return { ...configuration, imageReference: { ...image, version: image.version ?? 'latest' } };
}

/** A node carries its pool's start task, answered as the pool answers it. */
export function nodeDefaults<T extends object>(node: T): T {
  const wire = node as WireObject;
  if (!isWireObject(wire.startTask)) return node;
  return { ...wire, startTask: startTaskDefaults(wire.startTask) } as T;
}
