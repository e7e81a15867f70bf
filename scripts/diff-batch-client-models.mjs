#!/usr/bin/env node
// Prints what changed between Batch API versions, as the JavaScript clients
// AutoRest generated from each version's BatchService.json describe them:
// the operations (method and path) and, per model, the properties and enum
// values added or removed. It is how src/api/batch/version-history.ts was
// written; nothing runs it in tests.
//
//   node scripts/diff-batch-client-models.mjs DIR DIR…
//
// Each DIR is an unpacked client package (`npm pack @azure/batch@8.0.0`,
// `npm pack azure-batch@9.0.0`, then `tar xzf`), oldest first. Two layouts
// are read: the ms-rest-js clients (@azure/batch 6 and later: one
// esm/models/mappers.js, one operation spec per operation) and the older
// ms-rest ones (azure-batch: a file per model with a mapper() method, a file
// per operation group building request URLs).

import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';

function packageRoot(dir) {
  return existsSync(join(dir, 'package', 'package.json')) ? join(dir, 'package') : dir;
}

function apiVersionOf(root) {
  const candidates = [
    'esm/batchServiceClientContext.js',
    'dist-esm/src/batchServiceClientContext.js',
    'lib/batchServiceClient.js',
  ].map((file) => join(root, file));
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const match = /(\d{4}-\d{2}-\d{2}\.\d+\.\d+)/.exec(readFileSync(file, 'utf8'));
    if (match) return match[1];
  }
  return 'unknown';
}

/** ms-rest-js: every model is an `export var Name = {…}` of one file. */
function newStyleMappers(file) {
  const source = readFileSync(file, 'utf8')
    .replace(/^import .*$/gm, '')
    .replace(/^export (?:var|const) (\w+) = /gm, 'exports.$1 = ');
  const exports = {};
  vm.runInNewContext(source, { exports, CloudErrorMapper: {}, BaseResourceMapper: {} });
  return exports;
}

/** ms-rest: a class per file whose mapper() returns the model. */
function oldStyleMappers(folder) {
  const mappers = {};
  for (const name of readdirSync(folder).filter((file) => file.endsWith('.js') && file !== 'index.js')) {
    const module = { exports: {} };
    const stubRequire = () => class {};
    try {
      vm.runInNewContext(readFileSync(join(folder, name), 'utf8'), { module, exports: module.exports, require: stubRequire });
      const Model = module.exports;
      const mapper = typeof Model === 'function' ? new Model().mapper?.() : undefined;
      if (mapper?.type?.className) mappers[mapper.type.className] = mapper;
    } catch {
      // Options classes and enums without a mapper are no models.
    }
  }
  return mappers;
}

function mappersOf(root) {
  for (const file of ['esm/models/mappers.js', 'dist-esm/src/models/mappers.js']) {
    if (existsSync(join(root, file))) return newStyleMappers(join(root, file));
  }
  return oldStyleMappers(join(root, 'lib/models'));
}

function operationsOf(root) {
  const operations = new Set();
  for (const folder of ['esm/operations', 'dist-esm/src/operations']) {
    if (!existsSync(join(root, folder))) continue;
    for (const name of readdirSync(join(root, folder)).filter((file) => file.endsWith('.js'))) {
      const source = readFileSync(join(root, folder, name), 'utf8');
      for (const [, method, path] of source.matchAll(/httpMethod: "(\w+)",\s*path: "([^"]+)"/g)) operations.add(`${method} /${path}`);
    }
    return operations;
  }
  const folder = join(root, 'lib/operations');
  for (const name of readdirSync(folder).filter((file) => file.endsWith('.js'))) {
    const source = readFileSync(join(folder, name), 'utf8');
    const pattern = /let requestUrl = baseUrl \+ \(baseUrl\.endsWith\('\/'\) \? '' : '\/'\) \+ '([^']+)';[\s\S]*?httpRequest\.method = '(\w+)';/g;
    for (const [, path, method] of source.matchAll(pattern)) operations.add(`${method} /${path}`);
  }
  return operations;
}

/** Model.property → a short description of its type, and Model.property=value for enum values. */
function shapeOf(mappers) {
  const shape = new Map();
  for (const [name, mapper] of Object.entries(mappers)) {
    const properties = mapper?.type?.modelProperties;
    if (!properties) continue;
    for (const [property, definition] of Object.entries(properties)) {
      const wire = definition.serializedName ?? property;
      const type = definition.type ?? {};
      shape.set(`${name}.${wire}`, `${type.name}${type.className ? `<${type.className}>` : ''}${definition.required ? ' required' : ''}${definition.defaultValue !== undefined ? ` default=${JSON.stringify(definition.defaultValue)}` : ''}`);
      for (const value of type.allowedValues ?? []) shape.set(`${name}.${wire}=${String(value).toLowerCase()}`, 'enum value');
    }
  }
  return shape;
}

function difference(before, after) {
  return [...after].filter((item) => !before.has(item)).sort();
}

const dirs = process.argv.slice(2);
if (dirs.length < 2) {
  console.error('usage: node scripts/diff-batch-client-models.mjs DIR DIR…  (unpacked client packages, oldest first)');
  process.exit(2);
}
const versions = dirs.map((dir) => {
  const root = packageRoot(dir);
  return { dir, api: apiVersionOf(root), operations: operationsOf(root), shape: shapeOf(mappersOf(root)) };
});
for (let index = 1; index < versions.length; index += 1) {
  const before = versions[index - 1];
  const after = versions[index];
  console.log(`\n## ${before.api} → ${after.api}`);
  for (const operation of difference(before.operations, after.operations)) console.log(`+ ${operation}`);
  for (const operation of difference(after.operations, before.operations)) console.log(`- ${operation}`);
  const beforeKeys = new Set(before.shape.keys());
  const afterKeys = new Set(after.shape.keys());
  for (const key of difference(beforeKeys, afterKeys)) console.log(`+ ${key}  ${after.shape.get(key)}`);
  for (const key of difference(afterKeys, beforeKeys)) console.log(`- ${key}  ${before.shape.get(key)}`);
  for (const key of [...afterKeys].filter((k) => beforeKeys.has(k) && before.shape.get(k) !== after.shape.get(k)).sort()) {
    console.log(`~ ${key}  ${before.shape.get(key)} → ${after.shape.get(key)}`);
  }
}
