// The reference meaning of a filter, evaluated on one wire-shaped document.
// In-memory lists (files, nodes of a provider) use it directly; the SQL
// translation in the store is tested to agree with it.
//
// A missing value (absent, null, or not of the property's type) makes every
// comparison false except `ne`, which is true: "exitCode ne 0" keeps tasks
// that have not run. `not` is plain negation, so the logic stays two-valued.

import type { FilterNode, FilterProperty, FilterValue } from './filter-ast.js';
import { asciiLower, compareCodePoints, timestampSortKey } from './filter-values.js';

function valueAt(resource: unknown, property: FilterProperty): FilterValue | undefined {
  let current: unknown = resource;
  for (const key of property.path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = Object.prototype.hasOwnProperty.call(current, key) ? (current as Record<string, unknown>)[key] : undefined;
  }
  switch (property.type) {
    case 'string':
      return typeof current === 'string' ? { type: 'string', value: current } : undefined;
    case 'enum':
      return typeof current === 'string' ? { type: 'enum', value: asciiLower(current) } : undefined;
    case 'datetime':
      return typeof current === 'string' ? { type: 'datetime', value: timestampSortKey(current) } : undefined;
    case 'int':
      return typeof current === 'number' && Number.isFinite(current) ? { type: 'int', value: current } : undefined;
    case 'bool':
      return typeof current === 'boolean' ? { type: 'bool', value: current } : undefined;
  }
}

function compareValues(left: FilterValue, right: FilterValue): number {
  if (typeof left.value === 'string' && typeof right.value === 'string') return compareCodePoints(left.value, right.value);
  return Number(left.value) - Number(right.value);
}

export function matchesFilter(node: FilterNode, resource: unknown): boolean {
  switch (node.kind) {
    case 'and':
      return node.operands.every((operand) => matchesFilter(operand, resource));
    case 'or':
      return node.operands.some((operand) => matchesFilter(operand, resource));
    case 'not':
      return !matchesFilter(node.operand, resource);
    case 'startswith': {
      const value = valueAt(resource, node.property);
      return value?.type === 'string' && value.value.startsWith(node.prefix);
    }
    case 'compare': {
      const value = valueAt(resource, node.property);
      if (value === undefined) return node.op === 'ne';
      const order = compareValues(value, node.value);
      switch (node.op) {
        case 'eq':
          return order === 0;
        case 'ne':
          return order !== 0;
        case 'gt':
          return order > 0;
        case 'ge':
          return order >= 0;
        case 'lt':
          return order < 0;
        case 'le':
          return order <= 0;
      }
    }
  }
}
