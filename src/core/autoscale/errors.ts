// Formula errors with Batch's codes. Inside the evaluator they travel as a
// thrown FormulaError; the public functions turn them into AutoScaleRunError
// values and never let an exception out.
//
// Codes and messages, with where they come from:
//   AutoScalingFormulaSyntaxError     Batch status-code table: "The specified auto-scaling formula has a syntax error."
//   AutoScaleFormulaTooLong           the SDKs' BatchErrorCodeStrings (the status table spells it AutoScalingFormulaTooLong);
//                                     message from the status table; limit 8192 characters
//   AutoScalingFormulaEvaluationError the SDK tests' evaluateAutoScale of `$something_useless`; the message is ours
//   InsufficientSampleData            Batch's documented AutoScaleRun example: message and the
//                                     `Line 1, Col 24: Insufficient data from data set: $RunningTasks wanted 100%, received 0%` detail

import type { Position } from './ast.js';
import type { AutoScaleRunError } from './types.js';

export const SYNTAX_ERROR = 'AutoScalingFormulaSyntaxError';
export const TOO_LONG = 'AutoScaleFormulaTooLong';
export const EVALUATION_ERROR = 'AutoScalingFormulaEvaluationError';
export const INSUFFICIENT_SAMPLE_DATA = 'InsufficientSampleData';

const MESSAGES: Record<string, string> = {
  [SYNTAX_ERROR]: 'The specified auto-scaling formula has a syntax error.',
  [TOO_LONG]: 'The specified auto-scaling formula exceeds lengths limit.',
  [EVALUATION_ERROR]: 'Autoscale evaluation failed due to an error in the formula',
  [INSUFFICIENT_SAMPLE_DATA]: 'Autoscale evaluation failed due to insufficient sample data',
};

export class FormulaError extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
    readonly pos?: Position,
  ) {
    super(detail);
    this.name = 'FormulaError';
  }
}

export const syntaxError = (detail: string, pos?: Position) => new FormulaError(SYNTAX_ERROR, detail, pos);
export const evaluationError = (detail: string, pos?: Position) => new FormulaError(EVALUATION_ERROR, detail, pos);

export function insufficientSampleData(variable: string, wanted: number, received: number, pos: Position): FormulaError {
  return new FormulaError(
    INSUFFICIENT_SAMPLE_DATA,
    `Insufficient data from data set: ${variable} wanted ${wanted}%, received ${received}%`,
    pos,
  );
}

export function runError(code: string, detail: string, pos?: Position): AutoScaleRunError {
  const where = pos ? `Line ${pos.line}, Col ${pos.column}: ` : '';
  return { code, message: MESSAGES[code] ?? MESSAGES[EVALUATION_ERROR]!, values: [{ name: 'Message', value: where + detail }] };
}

export function toRunError(error: unknown): AutoScaleRunError {
  if (error instanceof FormulaError) return runError(error.code, error.detail, error.pos);
  // Anything else is a defect or exhausted resources (a RangeError from the stack):
  // still an answer, never a crash.
  const reason = error instanceof RangeError ? 'The formula is too complex to evaluate.' : 'The formula could not be evaluated.';
  return runError(EVALUATION_ERROR, reason);
}
