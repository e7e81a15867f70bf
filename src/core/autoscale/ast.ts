// The syntax tree of an autoscale formula. The parser resolves names while it
// builds the tree, so a node already says whether a name is a service
// variable, a user variable or a TimeInterval_* constant.

/** 1-based line and column (in UTF-16 code units), as Batch's messages count them. */
export interface Position {
  line: number;
  column: number;
}

export type BinaryOperator = '+' | '-' | '*' | '/' | '<' | '<=' | '==' | '!=' | '>=' | '>' | '&&' | '||';
export type UnaryOperator = '-' | '!';

export type FunctionName =
  | 'avg'
  | 'ceil'
  | 'floor'
  | 'len'
  | 'lg'
  | 'ln'
  | 'log'
  | 'max'
  | 'min'
  | 'norm'
  | 'percentile'
  | 'rand'
  | 'range'
  | 'round'
  | 'std'
  | 'stop'
  | 'sum'
  | 'time'
  | 'val';

export type MethodName = 'GetSample' | 'GetSamplePeriod' | 'Count' | 'HistoryBeginTime' | 'GetSamplePercent';

export type Expr =
  | { kind: 'number'; value: number; pos: Position }
  | { kind: 'string'; value: string; pos: Position }
  | { kind: 'interval'; name: string; ms: number; pos: Position }
  /** A read-only or read-write service variable, by its canonical name. */
  | { kind: 'service'; name: string; pos: Position }
  /** A user variable (its `$` kept when the formula wrote one). */
  | { kind: 'variable'; name: string; pos: Position }
  | { kind: 'unary'; op: UnaryOperator; operand: Expr; pos: Position }
  | { kind: 'binary'; op: BinaryOperator; left: Expr; right: Expr; pos: Position }
  | { kind: 'conditional'; test: Expr; then: Expr; otherwise: Expr; pos: Position }
  /** pos is the opening parenthesis, where Batch reports errors of a call. */
  | { kind: 'call'; name: FunctionName; args: Expr[]; pos: Position }
  | { kind: 'method'; variable: string; method: MethodName; args: Expr[]; pos: Position }
  | { kind: 'member'; object: Expr; member: string; pos: Position };

export type Statement =
  | { kind: 'assign'; target: { kind: 'service' | 'variable'; name: string }; value: Expr; pos: Position }
  | { kind: 'expr'; value: Expr; pos: Position };

export interface AutoScaleProgram {
  readonly statements: readonly Statement[];
}
