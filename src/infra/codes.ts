import { createHmac, randomBytes } from 'node:crypto';
import {
  generateCode,
  looksLikeCode,
  looksLikePublicCode,
  normalizeCode,
  normalizePublicCode,
} from '../domain/index.js';

/** The keyed hash stored for a code: without CODE_HASH_SECRET a database dump reveals no code. */
export function hashCode(secret: string, code: string): string {
  return createHmac('sha256', secret).update(code).digest('hex');
}

/** The hash of what a user typed, or null when it cannot be a code (saves a database lookup). */
export function hashTypedCode(secret: string, typed: string): string | null {
  const normalized = normalizeCode(typed);
  return looksLikeCode(normalized) ? hashCode(secret, normalized) : null;
}

/**
 * The keyed hash of a public code (typed or as stored), or null when it cannot be one. Hashed in its
 * own context (`public:`), so a public code and a generated code never share a hash.
 */
export function hashPublicCode(secret: string, typed: string): string | null {
  const normalized = normalizePublicCode(typed);
  return looksLikePublicCode(normalized) ? hashCode(secret, `public:${normalized}`) : null;
}

export function newCode(): string {
  return generateCode((n) => randomBytes(n));
}
