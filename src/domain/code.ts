/**
 * Characters a redemption code is made of: uppercase letters and digits without the look-alikes
 * 0/O, 1/I/L, so a code read off a poster or a screenshot types back correctly.
 */
export const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

/** 12 characters of a 31-letter alphabet: about 59 bits, far beyond guessing at any rate limit. */
export const CODE_LENGTH = 12;

// The largest multiple of the alphabet size that fits in a byte; bytes at or above it are
// discarded so that `byte % size` stays uniform (rejection sampling).
const ACCEPT_BELOW = 256 - (256 % CODE_ALPHABET.length);

// A healthy source is refused ~3% of bytes, so this many rounds without finishing means it is broken.
const MAX_ROUNDS = 64;

/**
 * A new code, uniform over {@link CODE_ALPHABET}^{@link CODE_LENGTH}.
 *
 * @param randomBytes - a cryptographically secure source, e.g. `node:crypto`'s `randomBytes`.
 * @throws Error when the source keeps returning nothing usable.
 */
export function generateCode(randomBytes: (n: number) => Uint8Array, length = CODE_LENGTH): string {
  let code = '';
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // A few spare bytes usually cover the rejected ones without a second call.
    const bytes = randomBytes(length - code.length + 4);
    for (const byte of bytes) {
      if (byte >= ACCEPT_BELOW) continue;
      code += CODE_ALPHABET.charAt(byte % CODE_ALPHABET.length);
      if (code.length === length) return code;
    }
  }
  throw new Error('random source produced too few usable bytes');
}

/**
 * The canonical form of what a user typed: ASCII letters uppercased, spaces and dashes dropped, so
 * `abcd-efgh-jkmn` matches `ABCDEFGHJKMN`. Only ASCII is case-folded, so no other character can
 * fold into the alphabet (`'ß'.toUpperCase()` is `'SS'`).
 */
export function normalizeCode(raw: string): string {
  return raw.replace(/[\s-]+/g, '').replace(/[a-z]/g, (c) => c.toUpperCase());
}

/** A code batch's codes: an optional prefix, then this many random characters. */
export const BATCH_CODE_LENGTH = { min: 8, max: 24 } as const;
/** A batch's prefix as an admin writes it: up to 8 of A–Z, 0–9 and `-` (dashes are not typed back). */
export const CODE_PREFIX_PATTERN = /^[A-Z0-9-]{0,8}$/;

// What a normalized code can be: 12 alphabet characters (the codes route), or a batch's prefix (its
// dashes dropped) followed by 8 to 24 of them.
const CODE_SHAPE = new RegExp(
  `^[A-Z0-9]{0,8}[${CODE_ALPHABET}]{${BATCH_CODE_LENGTH.min},${BATCH_CODE_LENGTH.max}}$`,
);

/**
 * True when a normalized code has a code's shape (a prefix of A–Z and 0–9, then alphabet
 * characters), so an obviously wrong one is refused without touching the database.
 */
export function looksLikeCode(normalized: string): boolean {
  return CODE_SHAPE.test(normalized);
}

/** A public code as an admin writes it and as it is matched: 4 to 32 of A–Z, 0–9 and `-`. */
export const PUBLIC_CODE_PATTERN = /^[A-Z0-9-]{4,32}$/;

/**
 * The canonical form of a public code: ASCII letters uppercased. Dashes are kept (unlike
 * {@link normalizeCode}): an admin chose them, so `BF-2026` and `BF2026` are different codes.
 */
export function normalizePublicCode(raw: string): string {
  return raw.replace(/[a-z]/g, (c) => c.toUpperCase());
}

/** True when a normalized public code has the allowed length and characters. */
export function looksLikePublicCode(normalized: string): boolean {
  return PUBLIC_CODE_PATTERN.test(normalized);
}

/**
 * The hash given to typed text that cannot be a generated code: no code has it, so it fails
 * CODE_INVALID in the worker without being looked up.
 */
export const NO_SUCH_CODE_HASH = '0'.repeat(64);
