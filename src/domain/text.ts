/**
 * Why a string cannot be stored as it is: PostgreSQL refuses NUL in text, a lone UTF-16 surrogate
 * cannot be encoded as UTF-8, and other control characters in names and identifiers are never
 * meant (they hide in logs and break exports). Free text (descriptions, reasons) may hold tab and
 * line breaks.
 */
export type TextProblem = 'NUL' | 'LONE_SURROGATE' | 'CONTROL_CHARACTER';

export interface TextRules {
  /** Allows tab, line feed and carriage return. @defaultValue false */
  freeText?: boolean;
}

// Cc is exactly C0, DEL and C1; NUL is told apart first.
const CONTROL = /\p{Cc}/u;
const CONTROL_EXCEPT_LINES = /(?![\t\n\r])\p{Cc}/u;

/** The first reason `value` cannot be stored, or null when it can. */
export function textProblem(value: string, rules: TextRules = {}): TextProblem | null {
  if (value.includes('\u0000')) return 'NUL';
  if (!value.isWellFormed()) return 'LONE_SURROGATE';
  if ((rules.freeText ? CONTROL_EXCEPT_LINES : CONTROL).test(value)) return 'CONTROL_CHARACTER';
  return null;
}

const MESSAGES: Record<TextProblem, string> = {
  NUL: 'must not contain a NUL character',
  LONE_SURROGATE: 'must not contain a lone surrogate (invalid UTF-16)',
  CONTROL_CHARACTER: 'must not contain control characters',
};

/** A message for a field that has `problem`, in the words of a validation error. */
export const textProblemMessage = (problem: TextProblem) => MESSAGES[problem];
