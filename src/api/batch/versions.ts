// The Batch API versions Lapis answers: every stable data-plane version of
// the REST spec from 2018-08-01.7.0 on, oldest first (the spec has no
// 13.0). 2022-10-01.16.0 is the primary one, spoken by @azure/batch 10.x,
// Python azure-batch 13 and az 2.45; later versions are answered with the
// union of fields, earlier ones with the operations and properties they had
// (version-gate.ts).

import { batchErrors } from '../../core/errors.js';

export const SUPPORTED_API_VERSIONS = [
  '2018-08-01.7.0',
  '2018-12-01.8.0',
  '2019-06-01.9.0',
  '2019-08-01.10.0',
  '2020-03-01.11.0',
  '2020-09-01.12.0',
  '2021-06-01.14.0',
  '2022-01-01.15.0',
  '2022-10-01.16.0',
  '2023-05-01.17.0',
  '2023-11-01.18.0',
  '2024-02-01.19.0',
  '2024-07-01.20.0',
] as const;
export type ApiVersion = (typeof SUPPORTED_API_VERSIONS)[number];

/** The version whose models Lapis's own schemas and the @azure/batch 10.2 mappers describe. */
export const PRIMARY_API_VERSION: ApiVersion = '2022-10-01.16.0';

export function checkApiVersion(version: string | undefined): ApiVersion {
  if (version === undefined || version === '') throw batchErrors.missingRequiredQueryParameter('api-version');
  const supported = SUPPORTED_API_VERSIONS.find((candidate) => candidate === version);
  if (!supported) throw batchErrors.unsupportedRequestVersion(version, SUPPORTED_API_VERSIONS);
  return supported;
}

/** Whether `version` is `since` or later. */
export function isAtLeast(version: ApiVersion, since: ApiVersion): boolean {
  return SUPPORTED_API_VERSIONS.indexOf(version) >= SUPPORTED_API_VERSIONS.indexOf(since);
}
