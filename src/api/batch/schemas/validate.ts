// Request-body validation with zod, answered in Batch's words: a missing
// property is MissingRequiredProperty, a wrong type or value is
// InvalidPropertyValue, each naming the property path in `values`.
// Unknown properties are kept (Batch echoes what was set), enums are accepted
// in any case and stored lower-case as on the wire, and durations are
// normalized to Batch's ISO-8601 form.

import { z } from 'zod';
import { batchErrors } from '../../../core/errors.js';
import { formatTimestamp, normalizeDuration } from '../../../core/time.js';
import { checkAgainstMapper, type BodyMapperName } from './mappers.js';

/**
 * A request body: the `@azure/batch` model it is checked against first
 * (mappers.ts), then its zod schema, whose output is the domain type `T`
 * (so a schema that drifts from core's type fails to compile).
 */
export interface RequestBody<T> {
  /** Undefined for a body the 2022-10-01.16.0 client has no model of (operations of later versions). */
  mapper: BodyMapperName | undefined;
  schema: z.ZodType<T>;
}

export function requestBody<T>(mapper: BodyMapperName | undefined, schema: z.ZodType<T>): RequestBody<T> {
  return { mapper, schema };
}

function propertyPath(path: PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text ? `.${String(part)}` : String(part);
  }
  return text;
}

function valueAt(body: unknown, path: PropertyKey[]): unknown {
  let current: unknown = body;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

export function parseBody<T>(request: RequestBody<T>, body: unknown): T {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw batchErrors.invalidRequestBody('The request body must be a JSON object.');
  }
  if (request.mapper) checkAgainstMapper(request.mapper, body);
  const result = request.schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw batchErrors.invalidRequestBody('The request body is not valid.');
  const path = issue.path as PropertyKey[];
  const name = propertyPath(path);
  if (issue.code === 'invalid_type' && valueAt(body, path) === undefined) throw batchErrors.missingRequiredProperty(name);
  throw batchErrors.invalidPropertyValue(name || 'body', issue.message);
}

/** An enum accepted in any case and stored lower-case, as Batch writes it. */
export function lowerEnum<const T extends readonly [string, ...string[]]>(values: T) {
  const allowed = new Set<string>(values);
  return z
    .string()
    .transform((value) => value.toLowerCase())
    .refine((value) => allowed.has(value), { message: `The value must be one of: ${values.join(', ')}.` }) as unknown as z.ZodType<T[number]>;
}

export const duration = () =>
  z
    .string()
    .refine((value) => normalizeDuration(value) !== undefined, { message: 'The value must be an ISO-8601 duration such as PT15M.' })
    .transform((value) => normalizeDuration(value) as string);

/** An ISO-8601 date-time, stored in Batch's 7-digit form. */
export const timestamp = () =>
  z
    .string()
    .refine((value) => /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)), {
      message: 'The value must be an ISO-8601 date-time such as 2024-01-02T03:04:05Z.',
    })
    .transform((value) => formatTimestamp(new Date(value)));

export const integer = () => z.number({ message: 'The value must be an integer.' }).int({ message: 'The value must be an integer.' });

export const nameValuePairs = () => z.array(z.looseObject({ name: z.string(), value: z.string() }));

export const environmentSettings = () => z.array(z.looseObject({ name: z.string().min(1), value: z.string().optional() }));

const relativePath = z
  .string()
  .refine((value) => !value.startsWith('/') && !value.split(/[\\/]/).includes('..'), {
    message: 'The path must be relative to the task working directory and may not contain "..".',
  });

export const resourceFile = () =>
  z
    .looseObject({
      autoStorageContainerName: z.string().min(1).optional(),
      storageContainerUrl: z.string().url().optional(),
      httpUrl: z.string().url().optional(),
      blobPrefix: z.string().optional(),
      filePath: relativePath.optional(),
      fileMode: z.string().regex(/^[0-7]{3,4}$/, 'The fileMode must be an octal mode such as 0644.').optional(),
    })
    .superRefine((file, context) => {
      const sources = [file.autoStorageContainerName, file.storageContainerUrl, file.httpUrl].filter((source) => source !== undefined);
      if (sources.length !== 1) {
        context.addIssue({ code: 'custom', message: 'Exactly one of autoStorageContainerName, storageContainerUrl or httpUrl must be specified.' });
      }
      if (file.httpUrl !== undefined && !file.filePath) {
        context.addIssue({ code: 'custom', path: ['filePath'], message: 'filePath is required with httpUrl.' });
      }
    });

export const userIdentity = () =>
  z.looseObject({
    username: z.string().optional(),
    autoUser: z.looseObject({ scope: lowerEnum(['task', 'pool']).optional(), elevationLevel: lowerEnum(['nonadmin', 'admin']).optional() }).optional(),
  });
