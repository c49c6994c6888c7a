import { createHmac, randomBytes } from 'node:crypto';
import { generateCode, looksLikeCode, normalizeCode } from '../domain/index.js';

/** The keyed hash stored for a code: without CODE_HASH_SECRET a database dump reveals no code. */
export function hashCode(secret: string, code: string): string {
  return createHmac('sha256', secret).update(code).digest('hex');
}

/** The hash of what a user typed, or null when it cannot be a code (saves a database lookup). */
export function hashTypedCode(secret: string, typed: string): string | null {
  const normalized = normalizeCode(typed);
  return looksLikeCode(normalized) ? hashCode(secret, normalized) : null;
}

export function newCode(): string {
  return generateCode((n) => randomBytes(n));
}
