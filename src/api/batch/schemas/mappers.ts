// Request bodies checked against `@azure/batch`'s own mappers (the client's
// description of every Batch model, generated from the REST spec): one walk
// over the mapper tree finds a missing required property or a value of the
// wrong type and answers in Batch's words, naming the property path. It runs
// before the body's zod schema, which then checks what the mappers cannot
// say (ranges, patterns, one-of rules) and normalizes values; rules that
// depend on state are core's.
//
// The walk knows the mapper kinds the Batch models use: String, Number,
// Boolean, DateTime, TimeSpan, Enum, Uuid, Object, Sequence, Dictionary and
// Composite (by className). Properties the mapper does not name are left for
// the schema: later API versions add properties the 2022-10-01.16.0 client
// does not know, and Batch echoes what was set.

import fs from 'node:fs';
import { batchErrors } from '../../../core/errors.js';
import { normalizeDuration } from '../../../core/time.js';

/** The part of an ms-rest-js mapper the walk reads. */
interface MapperType {
  name: string;
  className?: string;
  modelProperties?: Record<string, Mapper>;
  allowedValues?: string[];
  element?: Mapper;
  value?: Mapper;
}

interface MapperConstraints {
  MaxItems?: number;
  MinItems?: number;
  MaxLength?: number;
  MinLength?: number;
  InclusiveMaximum?: number;
  InclusiveMinimum?: number;
}

export interface Mapper {
  serializedName?: string;
  required?: boolean;
  readOnly?: boolean;
  constraints?: MapperConstraints;
  type: MapperType;
}

/** `@azure/batch`'s BatchServiceMappers as data (scripts/generate-batch-mappers.mjs): read, not loaded with the client and its HTTP stack. */
export const BATCH_MAPPERS_FILE = new URL('./batch-mappers.json', import.meta.url);
const MAPPERS = (JSON.parse(fs.readFileSync(BATCH_MAPPERS_FILE, 'utf8')) as { mappers: Record<string, Mapper | undefined> }).mappers;

/** The names of the Batch request-body models, as `@azure/batch` calls them. */
export type BodyMapperName =
  | 'PoolAddParameter'
  | 'PoolPatchParameter'
  | 'PoolUpdatePropertiesParameter'
  | 'PoolResizeParameter'
  | 'PoolEnableAutoScaleParameter'
  | 'PoolEvaluateAutoScaleParameter'
  | 'NodeRemoveParameter'
  | 'JobAddParameter'
  | 'JobPatchParameter'
  | 'JobUpdateParameter'
  | 'JobDisableParameter'
  | 'JobTerminateParameter'
  | 'JobScheduleAddParameter'
  | 'JobSchedulePatchParameter'
  | 'JobScheduleUpdateParameter'
  | 'TaskAddParameter'
  | 'TaskAddCollectionParameter'
  | 'TaskUpdateParameter'
  | 'CertificateAddParameter'
  | 'ComputeNodeUser'
  | 'NodeUpdateUserParameter'
  | 'NodeRebootParameter'
  | 'NodeReimageParameter'
  | 'NodeDisableSchedulingParameter'
  | 'UploadBatchServiceLogsConfiguration';

/** A model's mapper by class name; undefined for a name the client does not have. */
export function modelMapper(className: string): Mapper | undefined {
  return MAPPERS[className];
}

function propertyName(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function wrongType(path: string, expected: string, value: unknown): never {
  throw batchErrors.invalidPropertyValue(path || 'body', `The value must be ${expected}, not ${describe(value)}.`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function checkConstraints(path: string, constraints: MapperConstraints | undefined, value: unknown): void {
  if (!constraints) return;
  const size = Array.isArray(value) ? value.length : typeof value === 'string' ? value.length : undefined;
  const { MaxItems, MinItems, MaxLength, MinLength, InclusiveMaximum, InclusiveMinimum } = constraints;
  if (Array.isArray(value) && MaxItems !== undefined && value.length > MaxItems) {
    throw batchErrors.invalidPropertyValue(path, `The list may hold at most ${MaxItems} items.`);
  }
  if (Array.isArray(value) && MinItems !== undefined && value.length < MinItems) {
    throw batchErrors.invalidPropertyValue(path, `The list must hold at least ${MinItems} items.`);
  }
  if (typeof value === 'string' && size !== undefined) {
    if (MaxLength !== undefined && size > MaxLength) throw batchErrors.invalidPropertyValue(path, `The value may be at most ${MaxLength} characters long.`);
    if (MinLength !== undefined && size < MinLength) throw batchErrors.invalidPropertyValue(path, `The value must be at least ${MinLength} characters long.`);
  }
  if (typeof value === 'number') {
    if (InclusiveMaximum !== undefined && value > InclusiveMaximum) throw batchErrors.invalidPropertyValue(path, `The value may be at most ${InclusiveMaximum}.`);
    if (InclusiveMinimum !== undefined && value < InclusiveMinimum) throw batchErrors.invalidPropertyValue(path, `The value must be at least ${InclusiveMinimum}.`);
  }
}

/** The properties of a Composite mapper, its class's when the reference names only the class. */
function compositeProperties(type: MapperType): Record<string, Mapper> {
  if (type.modelProperties) return type.modelProperties;
  const model = type.className ? MAPPERS[type.className] : undefined;
  return model?.type.modelProperties ?? {};
}

/** Checks one value (present, not undefined) against its mapper; `path` names it in errors. */
function checkValue(mapper: Mapper, value: unknown, path: string): void {
  const type = mapper.type;
  // A null is "no value" to the client's serializer; what a property that may not be null makes of it is the schema's to say.
  if (value === null) return;
  switch (type.name) {
    case 'String':
    case 'Uuid':
      if (typeof value !== 'string') wrongType(path, 'a string', value);
      break;
    case 'Number':
      if (typeof value !== 'number' || !Number.isFinite(value)) wrongType(path, 'a number', value);
      break;
    case 'Boolean':
      if (typeof value !== 'boolean') wrongType(path, 'true or false', value);
      break;
    case 'DateTime':
    case 'DateTimeRfc1123':
      if (typeof value !== 'string') wrongType(path, 'a date-time string', value);
      if (Number.isNaN(Date.parse(value))) throw batchErrors.invalidPropertyValue(path, 'The value must be a date-time such as 2024-01-02T03:04:05Z.');
      break;
    case 'TimeSpan':
      if (typeof value !== 'string') wrongType(path, 'an ISO-8601 duration string', value);
      if (normalizeDuration(value) === undefined) throw batchErrors.invalidPropertyValue(path, 'The value must be an ISO-8601 duration such as PT15M.');
      break;
    case 'Enum': {
      if (typeof value !== 'string') wrongType(path, 'a string', value);
      const allowed = type.allowedValues ?? [];
      const lower = value.toLowerCase();
      if (allowed.length > 0 && !allowed.some((name) => name.toLowerCase() === lower)) {
        throw batchErrors.invalidPropertyValue(path, `The value must be one of: ${allowed.join(', ')}.`);
      }
      break;
    }
    case 'Sequence':
      if (!Array.isArray(value)) wrongType(path, 'an array', value);
      if (type.element) value.forEach((item, index) => checkValue(type.element as Mapper, item, `${path}[${index}]`));
      break;
    case 'Dictionary':
      if (!isPlainObject(value)) wrongType(path, 'an object', value);
      if (type.value) for (const [key, item] of Object.entries(value)) checkValue(type.value, item, propertyName(path, key));
      break;
    case 'Composite':
      if (!isPlainObject(value)) wrongType(path, 'an object', value);
      checkProperties(compositeProperties(type), value, path);
      break;
    case 'Object':
    default:
      // Free-form (VM extension settings) or a kind the Batch models do not use: the schema decides.
      break;
  }
  checkConstraints(path, mapper.constraints, value);
}

function checkProperties(properties: Record<string, Mapper>, body: Record<string, unknown>, path: string): void {
  for (const [name, property] of Object.entries(properties)) {
    if (property.readOnly) continue;
    const wireName = property.serializedName ?? name;
    const value = body[wireName];
    const at = propertyName(path, wireName);
    if (value === undefined) {
      if (property.required) throw batchErrors.missingRequiredProperty(at);
      continue;
    }
    checkValue(property, value, at);
  }
}

/**
 * Checks a request body against the named model of `@azure/batch`:
 * MissingRequiredProperty for a required property left out,
 * InvalidPropertyValue for a value of the wrong type, an enum value Batch does
 * not have, or a list over its limit. `prefix` names where the model sits
 * in the body (empty for the body itself).
 */
export function checkAgainstMapper(className: BodyMapperName, body: unknown, prefix = ''): void {
  const mapper = MAPPERS[className];
  if (!mapper) throw new Error(`@azure/batch has no mapper named ${className}`);
  checkValue(mapper, body, prefix);
}
