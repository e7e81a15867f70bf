// Translates a checked `$filter` tree into a parameterized SQLite WHERE
// fragment. Literal values only ever travel as bound parameters; the only text
// spliced into the SQL is column names from the store and JSON paths from the
// core property tables.
//
// It means exactly what core/odata/filter-eval.ts means (a test holds the two
// together): a missing value fails every comparison except `ne`, so each leaf
// is two-valued (IS / IS NOT / coalesce(…, 0)) and NOT never meets a NULL;
// enums compare lower-cased (a column of their own already holds the
// lower-case wire value, so it is compared as it is and its index serves
// `state eq 'active'`); datetimes compare by a key padded to seven
// fractional digits; strings compare by code point (SQLite's BINARY order).

import type { FilterNode, FilterProperty, FilterValue } from '../../core/odata/filter-ast.js';

export interface SqlFragment {
  sql: string;
  params: (string | number)[];
}

export interface FilterSqlOptions {
  /**
   * Properties that have their own column, by wire name → SQL expression. The
   * column must hold the same value as the document; for an enum, its
   * lower-case wire value (core's state and result values are).
   */
  columns?: Readonly<Record<string, string>>;
  /** The column holding the JSON document; `doc` unless told. */
  docColumn?: string;
}

/** The tasks table keeps these in indexed columns (see migrations/ and SqliteTasks). */
export const TASK_FILTER_COLUMNS: Readonly<Record<string, string>> = {
  state: 'state',
  'executionInfo/result': 'result',
  'nodeInfo/nodeId': 'node_id',
  'executionInfo/exitCode': 'exit_code',
};
export const JOB_FILTER_COLUMNS: Readonly<Record<string, string>> = { state: 'state' };
export const NODE_FILTER_COLUMNS: Readonly<Record<string, string>> = { id: 'id' };

const SQL_OPERATORS = { gt: '>', ge: '>=', lt: '<', le: '<=' } as const;

const sqlString = (text: string) => `'${text.replace(/'/g, "''")}'`;

function valueExpression(property: FilterProperty, options: FilterSqlOptions): string {
  const column = options.columns?.[property.name];
  if (column !== undefined) return column;
  return `json_extract(${options.docColumn ?? 'doc'}, ${sqlString(`$.${property.path.join('.')}`)})`;
}

/** The SQL twin of timestampSortKey: `…05Z` and `…05.123Z` become `…05.0000000Z` and `…05.1230000Z`. */
function timestampKey(e: string): string {
  const fraction = `CASE WHEN substr(${e}, 20, 1) = '.' THEN substr(${e}, 21, max(length(${e}) - 21, 0)) ELSE '' END`;
  return `(substr(${e}, 1, 19) || '.' || substr(${fraction} || '0000000', 1, 7) || 'Z')`;
}

function comparable(property: FilterProperty, options: FilterSqlOptions): string {
  const e = valueExpression(property, options);
  if (property.type === 'enum') return options.columns?.[property.name] === undefined ? `lower(${e})` : e;
  if (property.type === 'datetime') return timestampKey(e);
  return e;
}

function parameter(value: FilterValue): string | number {
  return value.type === 'bool' ? (value.value ? 1 : 0) : value.value;
}

/** `(a AND (b AND c))` halves: SQLite caps expression depth at 1000, and a long flat chain nests one level per term. */
function joinBalanced(parts: string[], operator: 'AND' | 'OR'): string {
  if (parts.length === 1) return parts[0] as string;
  const middle = Math.ceil(parts.length / 2);
  return `(${joinBalanced(parts.slice(0, middle), operator)} ${operator} ${joinBalanced(parts.slice(middle), operator)})`;
}

function translate(node: FilterNode, options: FilterSqlOptions, params: (string | number)[]): string {
  switch (node.kind) {
    case 'and':
    case 'or':
      return joinBalanced(
        node.operands.map((operand) => translate(operand, options, params)),
        node.kind === 'and' ? 'AND' : 'OR',
      );
    case 'not':
      return `(NOT ${translate(node.operand, options, params)})`;
    case 'startswith':
      // substr and length count characters; LIKE would treat % and _ in the prefix as wildcards.
      params.push([...node.prefix].length, node.prefix);
      return `coalesce(substr(${valueExpression(node.property, options)}, 1, ?) = ?, 0)`;
    case 'compare': {
      const left = comparable(node.property, options);
      params.push(parameter(node.value));
      if (node.op === 'eq') return `(${left} IS ?)`;
      if (node.op === 'ne') return `(${left} IS NOT ?)`;
      return `coalesce(${left} ${SQL_OPERATORS[node.op]} ?, 0)`;
    }
  }
}

/** A WHERE fragment (to AND with the list's own conditions) and its parameters, in order. */
export function filterToSql(node: FilterNode, options: FilterSqlOptions = {}): SqlFragment {
  const params: (string | number)[] = [];
  const sql = translate(node, options, params);
  return { sql, params };
}
