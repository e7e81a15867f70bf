// Prints a filter tree back as canonical `$filter` text that parses to the
// same tree: for logs, next links and the parser's round-trip tests.

import type { FilterNode, FilterValue } from './filter-ast.js';

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;

function printValue(value: FilterValue): string {
  switch (value.type) {
    case 'string':
    case 'enum':
      return quote(value.value);
    case 'int':
    case 'bool':
      return String(value.value);
    case 'datetime':
      return `datetime${quote(value.value)}`;
  }
}

export function printFilter(node: FilterNode): string {
  switch (node.kind) {
    case 'compare':
      return `${node.property.name} ${node.op} ${printValue(node.value)}`;
    case 'startswith':
      return `startswith(${node.property.name},${quote(node.prefix)})`;
    case 'and':
    case 'or':
      // Nested and/or keep their parentheses, so the tree's shape survives.
      return node.operands.map((operand) => (operand.kind === 'and' || operand.kind === 'or' ? `(${printFilter(operand)})` : printFilter(operand))).join(` ${node.kind} `);
    case 'not':
      return `not (${printFilter(node.operand)})`;
  }
}
