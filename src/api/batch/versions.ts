// The Batch API versions Lapis answers. 2022-10-01.16.0 is the version the
// JavaScript SDK 10.x, Python azure-batch 13 and az 2.45 speak; later ones
// are answered with the union of fields.

import { batchErrors } from '../../core/errors.js';

export const SUPPORTED_API_VERSIONS = ['2022-10-01.16.0', '2023-05-01.17.0', '2023-11-01.18.0', '2024-02-01.19.0', '2024-07-01.20.0'] as const;
export type ApiVersion = (typeof SUPPORTED_API_VERSIONS)[number];

export function checkApiVersion(version: string | undefined): ApiVersion {
  if (version === undefined || version === '') throw batchErrors.missingRequiredQueryParameter('api-version');
  const supported = SUPPORTED_API_VERSIONS.find((candidate) => candidate === version);
  if (!supported) throw batchErrors.unsupportedRequestVersion(version);
  return supported;
}

/** Whether `version` is `since` or later. */
export function isAtLeast(version: ApiVersion, since: ApiVersion): boolean {
  return SUPPORTED_API_VERSIONS.indexOf(version) >= SUPPORTED_API_VERSIONS.indexOf(since);
}
