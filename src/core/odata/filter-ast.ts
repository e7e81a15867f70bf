// The checked syntax tree of a Batch OData `$filter`. The parser builds it
// against one list's property table, so every comparison already knows its
// property (wire name, JSON path, type) and carries a literal of that type:
// the evaluator, the printer and the SQL translator never look anything up.

export type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type FilterOperator = ComparisonOperator | 'startswith';
export type FilterValueType = 'string' | 'enum' | 'int' | 'datetime' | 'bool';

export const COMPARISON_OPERATORS: readonly ComparisonOperator[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];

/** One filterable property of a list, as Batch's "OData filters in Batch" page names it. */
export interface FilterProperty {
  /** The wire path clients write, e.g. `executionInfo/exitCode`. */
  readonly name: string;
  readonly type: FilterValueType;
  /** Where the value sits in the stored (wire-shaped) document. */
  readonly path: readonly string[];
  readonly operators: readonly FilterOperator[];
  /** For enums: the lower-case wire values. */
  readonly values?: readonly string[];
}

/** A literal, already of its property's type. */
export type FilterValue =
  | { readonly type: 'string'; readonly value: string }
  /** Lower-cased: enums compare without regard to case. */
  | { readonly type: 'enum'; readonly value: string }
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'bool'; readonly value: boolean }
  /** Canonical UTC with seven fractional digits, as formatTimestamp writes: `2024-01-02T03:04:05.0000000Z`. */
  | { readonly type: 'datetime'; readonly value: string };

export type FilterNode =
  | { readonly kind: 'compare'; readonly property: FilterProperty; readonly op: ComparisonOperator; readonly value: FilterValue }
  | { readonly kind: 'startswith'; readonly property: FilterProperty; readonly prefix: string }
  /** Two or more operands; `a and b and c` is one node, parentheses keep their own. */
  | { readonly kind: 'and'; readonly operands: readonly FilterNode[] }
  | { readonly kind: 'or'; readonly operands: readonly FilterNode[] }
  | { readonly kind: 'not'; readonly operand: FilterNode };
