// Requests and answers of API versions older than the primary one, in that
// version's own models (version-history.ts): a request body naming a
// property the version did not have is refused as Batch refuses an unknown
// member (400 InvalidRequestBody), a renamed property is read under its old
// name and written back under it, a default that changed is filled in as
// the version had it, and an answer leaves out what the version did not
// have. The primary and later versions pass untouched: they are answered
// with the union of fields, and the primary version's speed is not spent
// here.
//
// Where a property sits is found by walking the body with @azure/batch's
// mappers of the primary version, which name the model of every nested
// object.

import { batchErrors } from '../../core/errors.js';
import type { BatchReply, OperationId } from './operation.js';
import { modelMapper, type Mapper } from './schemas/mappers.js';
import { DEFAULT_HISTORY, PROPERTY_HISTORY, type PropertyHistory } from './version-history.js';
import { isAtLeast, PRIMARY_API_VERSION, type ApiVersion } from './versions.js';

/** The model of each operation's request body. */
const REQUEST_MODELS: Partial<Record<OperationId, string>> = {
  Pool_Add: 'PoolAddParameter',
  Pool_Patch: 'PoolPatchParameter',
  Pool_UpdateProperties: 'PoolUpdatePropertiesParameter',
  Job_Add: 'JobAddParameter',
  Job_Patch: 'JobPatchParameter',
  Job_Update: 'JobUpdateParameter',
  JobSchedule_Add: 'JobScheduleAddParameter',
  JobSchedule_Patch: 'JobSchedulePatchParameter',
  JobSchedule_Update: 'JobScheduleUpdateParameter',
  Task_Add: 'TaskAddParameter',
  Task_AddCollection: 'TaskAddCollectionParameter',
  Task_Update: 'TaskUpdateParameter',
  ComputeNode_UploadBatchServiceLogs: 'UploadBatchServiceLogsConfiguration',
};

/** The model of each operation's answer, for those whose models changed. */
const REPLY_MODELS: Partial<Record<OperationId, string>> = {
  Pool_Get: 'CloudPool',
  Pool_List: 'CloudPoolListResult',
  Job_Get: 'CloudJob',
  Job_List: 'CloudJobListResult',
  Job_ListFromJobSchedule: 'CloudJobListResult',
  JobSchedule_Get: 'CloudJobSchedule',
  JobSchedule_List: 'CloudJobScheduleListResult',
  Task_Get: 'CloudTask',
  Task_List: 'CloudTaskListResult',
  ComputeNode_Get: 'ComputeNode',
  ComputeNode_List: 'ComputeNodeListResult',
};

/** Before 2020-09-01.12.0 Job_GetTaskCounts answered the TaskCounts alone, without slot counts. */
const TASK_COUNTS_RESULT_SINCE: ApiVersion = '2020-09-01.12.0';

function byModelAndName(name: (entry: PropertyHistory) => string | undefined): Map<string, PropertyHistory[]> {
  const map = new Map<string, PropertyHistory[]>();
  for (const entry of PROPERTY_HISTORY) {
    const property = name(entry);
    if (property === undefined) continue;
    for (const model of entry.models) {
      const key = `${model}.${property}`;
      map.set(key, [...(map.get(key) ?? []), entry]);
    }
  }
  return map;
}

const HISTORY_BY_PROPERTY = byModelAndName((entry) => entry.property);
const HISTORY_BY_FORMER_NAME = byModelAndName((entry) => entry.formerly);

function covers(entry: PropertyHistory, version: ApiVersion): boolean {
  return (!entry.since || isAtLeast(version, entry.since)) && (!entry.until || !isAtLeast(version, entry.until));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The model objects in `value` (described by `mapper`), each with its class and property path, parents before children. */
function visitModels(value: unknown, mapper: Mapper, path: string, visit: (object: Record<string, unknown>, className: string, path: string) => void): void {
  const type = mapper.type;
  if (type.name === 'Sequence' && Array.isArray(value) && type.element) {
    value.forEach((item, index) => visitModels(item, type.element as Mapper, `${path}[${index}]`, visit));
    return;
  }
  if (type.name === 'Dictionary' && isPlainObject(value) && type.value) {
    for (const [key, item] of Object.entries(value)) visitModels(item, type.value, path ? `${path}.${key}` : key, visit);
    return;
  }
  if (type.name !== 'Composite' || !isPlainObject(value) || !type.className) return;
  visit(value, type.className, path);
  const properties = type.modelProperties ?? modelMapper(type.className)?.type.modelProperties ?? {};
  for (const [name, property] of Object.entries(properties)) {
    const wireName = property.serializedName || name;
    const child = value[wireName];
    if (child !== undefined) visitModels(child, property, path ? `${path}.${wireName}` : wireName, visit);
  }
}

function unknownMember(className: string, path: string, version: ApiVersion): never {
  throw batchErrors.invalidRequestBody(`The property '${path}' does not exist on type '${className}' in api-version ${version}.`);
}

/** A request object of `className` in `version`'s model: renamed properties under today's names, removed ones refused, old defaults filled in. */
function requestObjectForVersion(object: Record<string, unknown>, className: string, path: string, version: ApiVersion): void {
  const at = (name: string) => (path ? `${path}.${name}` : name);
  for (const name of Object.keys(object)) {
    const renamed = HISTORY_BY_FORMER_NAME.get(`${className}.${name}`)?.find((entry) => entry.since && !isAtLeast(version, entry.since));
    if (renamed) {
      if (object[renamed.property] !== undefined) unknownMember(className, at(renamed.property), version);
      object[renamed.property] = object[name];
      delete object[name];
      continue;
    }
    const history = HISTORY_BY_PROPERTY.get(`${className}.${name}`);
    if (history && !history.some((entry) => covers(entry, version))) unknownMember(className, at(name), version);
    if (!history && HISTORY_BY_FORMER_NAME.has(`${className}.${name}`)) unknownMember(className, at(name), version);
  }
  for (const change of DEFAULT_HISTORY) {
    if (change.models.includes(className) && !isAtLeast(version, change.until)) fillDefault(object, change.path, change.value);
  }
}

/** Sets the property at `path` to `value` unless it is given; a path through something other than an object is left for the schema to refuse. */
function fillDefault(object: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [step, ...rest] = path;
  if (step === undefined) return;
  if (rest.length === 0) {
    if (object[step] === undefined) object[step] = value;
    return;
  }
  if (object[step] === undefined) object[step] = {};
  const next = object[step];
  if (isPlainObject(next)) fillDefault(next, rest, value);
}

/** An answer's object of `className` in `version`'s model: what it did not have left out, renamed properties under their old names. */
function replyObjectForVersion(object: Record<string, unknown>, className: string, version: ApiVersion): void {
  for (const name of Object.keys(object)) {
    const history = HISTORY_BY_PROPERTY.get(`${className}.${name}`);
    if (!history || history.some((entry) => covers(entry, version))) continue;
    const renamed = history.find((entry) => entry.formerly && entry.since && !isAtLeast(version, entry.since));
    if (renamed?.formerly) object[renamed.formerly] = object[name];
    delete object[name];
  }
}

function isOlderThanPrimary(version: ApiVersion): boolean {
  return !isAtLeast(version, PRIMARY_API_VERSION);
}

/** The request body as the handlers expect it (the primary version's model); throws for a property `version` did not have. */
export function requestBodyForVersion(operationId: OperationId, version: ApiVersion, body: unknown): unknown {
  const model = REQUEST_MODELS[operationId];
  if (!isOlderThanPrimary(version) || !model || !isPlainObject(body)) return body;
  const mapper = modelMapper(model);
  if (!mapper) throw new Error(`@azure/batch has no mapper named ${model}`);
  visitModels(body, mapper, '', (object, className, path) => requestObjectForVersion(object, className, path, version));
  return body;
}

/** The model of the items an answer holds: a list result's elements, or the answer's own model. */
function itemModelOf(model: string): string {
  const element = modelMapper(model)?.type.modelProperties?.['value']?.type.element;
  return element?.type.className ?? model;
}

/** The query with `$select` naming renamed properties as the handlers know them (maxTasksPerNode → taskSlotsPerNode). */
export function queryForVersion(operationId: OperationId, version: ApiVersion, query: Record<string, string | undefined>): Record<string, string | undefined> {
  const model = REPLY_MODELS[operationId];
  const select = query['$select'];
  if (!isOlderThanPrimary(version) || !model || select === undefined) return query;
  const itemModel = itemModelOf(model);
  const current = (name: string) => HISTORY_BY_FORMER_NAME.get(`${itemModel}.${name.trim()}`)?.find((entry) => entry.since && !isAtLeast(version, entry.since))?.property ?? name;
  return { ...query, $select: select.split(',').map(current).join(',') };
}

/** The answer in `version`'s models. */
export function replyForVersion(operationId: OperationId, version: ApiVersion, reply: BatchReply): BatchReply {
  if (!isOlderThanPrimary(version)) return reply;
  if (operationId === 'Job_GetTaskCounts' && !isAtLeast(version, TASK_COUNTS_RESULT_SINCE) && isPlainObject(reply.body)) {
    const { taskCounts, 'odata.metadata': metadata } = reply.body as { taskCounts?: object; 'odata.metadata'?: string };
    return { ...reply, body: { 'odata.metadata': metadata, ...taskCounts } };
  }
  const model = REPLY_MODELS[operationId];
  const mapper = model ? modelMapper(model) : undefined;
  if (!mapper) return reply;
  const body: unknown = reply.json !== undefined ? JSON.parse(reply.json) : reply.body;
  if (!isPlainObject(body)) return reply;
  visitModels(body, mapper, '', (object, className) => replyObjectForVersion(object, className, version));
  const { json: _serialized, ...rest } = reply;
  return { ...rest, body };
}
