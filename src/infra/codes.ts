import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
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

/** A code of a batch: its prefix as written, then `length` random characters. */
export function newBatchCode(prefix: string, length: number): string {
  return prefix + generateCode((n) => randomBytes(n), length);
}

/** The keyed hash a batch code is stored and redeemed under (that of its typed form). */
export function hashBatchCode(secret: string, code: string): string {
  return hashCode(secret, normalizeCode(code));
}

/**
 * AES-256-GCM over a code's plaintext, with a random 12-byte IV for each code; `sealed` is the
 * ciphertext followed by the 16-byte tag.
 */
export function codeCipher(key: Buffer) {
  return {
    seal(plain: string): { iv: Buffer; sealed: Buffer } {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([
        cipher.update(plain, 'utf8'),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return { iv, sealed };
    },
    open(iv: Buffer, sealed: Buffer): string {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([
        decipher.update(sealed.subarray(0, sealed.length - 16)),
        decipher.final(),
      ]).toString('utf8');
    },
  };
}
export type CodeCipher = ReturnType<typeof codeCipher>;
