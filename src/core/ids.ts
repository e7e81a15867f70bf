// Batch identifiers: 1 to 64 letters, digits, hyphens and underscores,
// case-preserving but unique without regard to case. The lower-cased form is
// the key every lookup and uniqueness check uses.

import { batchErrors } from './errors.js';

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** Throws InvalidPropertyValue naming `property` when `id` breaks Batch's rules. */
export function assertValidId(id: string, property = 'id'): void {
  if (!isValidId(id)) {
    throw batchErrors.invalidPropertyValue(
      property,
      'The id can contain any combination of alphanumeric characters including hyphens and underscores, and cannot contain more than 64 characters.',
    );
  }
}

export function idKey(id: string): string {
  return id.toLowerCase();
}
