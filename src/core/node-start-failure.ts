// Why a node could not start, as Batch reports it in ComputeNode.errors. A
// provider throws a NodeStartFailure; the node it fails becomes `unusable`
// and carries the error until it starts again.

import type { NameValuePair } from './common.js';

/** Batch's ComputeNodeError. */
export interface ComputeNodeError {
  code: string;
  message: string;
  errorDetails?: NameValuePair[];
}

export class NodeStartFailure extends Error {
  constructor(readonly nodeError: ComputeNodeError) {
    super(`${nodeError.code}: ${nodeError.message}`);
    this.name = 'NodeStartFailure';
  }
}

export function isNodeStartFailure(error: unknown): error is NodeStartFailure {
  return error instanceof NodeStartFailure;
}

/** A pool's container image that is not there and cannot be pulled. */
export function invalidContainerImage(image: string, reason: string): NodeStartFailure {
  return new NodeStartFailure({
    code: 'ContainerInvalidImage',
    message: 'One or more container images specified are invalid',
    errorDetails: [
      { name: 'ContainerImage', value: image },
      { name: 'Message', value: reason },
    ],
  });
}

/** The errors an unusable node carries for the failure that made it so (none for a failure Batch has no code for). */
export function nodeErrorsOf(failure: unknown): ComputeNodeError[] {
  return isNodeStartFailure(failure) ? [failure.nodeError] : [];
}
