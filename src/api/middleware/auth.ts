import { createVerifier, TokenError } from 'fast-jwt';
import type { Context, MiddlewareHandler } from 'hono';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { textProblem } from '../../domain/text.js';
import type { AppEnv, Principal } from '../context.js';
import { ApiError } from '../errors.js';

/** Actors the service itself writes into coupon history; no caller may act as one. */
const SYSTEM_ACTOR = 'system:';

// Format characters (zero-width spaces, bidi overrides, the BOM) do not show where a `sub` is read.
const FORMAT_CHARACTER = /\p{Cf}/u;

/**
 * A `sub` the service can write as an actor: storable, no whitespace at either end, no invisible
 * character, and nothing that reads as a system actor once case and character width are ignored
 * (` system:payment`, `SYSTEM:payment`, full-width letters).
 */
function isCallerId(sub: string): boolean {
  return (
    textProblem(sub) === null &&
    sub.trim() === sub &&
    !FORMAT_CHARACTER.test(sub) &&
    !sub.normalize('NFKC').toLowerCase().startsWith(SYSTEM_ACTOR)
  );
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(200).refine(isCallerId),
  role: z.enum(['admin', 'user']),
});

/** Clock skew allowed between the token's issuer and this service, on `exp` and `nbf`. */
export const CLOCK_LEEWAY_MS = 30_000;

export interface AuthOptions {
  secret: string;
  /** When set, a token's `iss` must equal it. */
  issuer?: string;
  /** When set, a token's `aud` must name it. */
  audience?: string;
  /**
   * Told of every request that fails authentication, before its 401: may throw instead (the
   * per-address limit of failed attempts answers 429).
   */
  onFailure?: (c: Context<AppEnv>) => Promise<void>;
}

/** Verified tokens remembered per process (the token string and its claims, well under 1 KB). */
export const TOKEN_CACHE_SIZE = 10_000;
/** How long a verified token is remembered at most; never past its `exp`. */
export const TOKEN_CACHE_TTL_MS = 5 * 60_000;

interface Verified {
  principal: Principal;
  /** `nbf` in ms (0 when absent): before it the token is not yet valid. */
  from: number;
  /** min(`exp`, verified + TTL) in ms: from then on the token is verified again. */
  until: number;
}

/**
 * Verifies `Authorization: Bearer <JWT>`: HS256 only (so `alg: none` and algorithm swaps fail), `exp`
 * and `nbf` honoured with {@link CLOCK_LEEWAY_MS} of skew, `iss`/`aud` when configured, `sub` and
 * `role` required; a `sub` that is not {@link isCallerId} (one of the service's own actors, however
 * spelled) is refused. fast-jwt verifies with node:crypto synchronously;
 * a WebCrypto verification (jose) cost about a sixth of an enqueue request's CPU.
 *
 * A client sends the same token many times (a request, then polls of its job), so tokens that
 * verified are remembered in an LRU keyed by the whole token string: a token that differs in any
 * byte misses and is verified. A hit is used only between the token's `nbf` and the earlier of its
 * `exp` and {@link TOKEN_CACHE_TTL_MS} after it was verified. Refused tokens are not remembered.
 * (fast-jwt's own cache keys by a SHA-256 of the token, which cost as much as verifying an HS256
 * token.)
 */
export function authenticate({
  secret,
  issuer,
  audience,
  onFailure,
}: AuthOptions): MiddlewareHandler<AppEnv> {
  const verify = createVerifier({
    key: secret,
    algorithms: ['HS256'],
    clockTolerance: CLOCK_LEEWAY_MS,
    ...(issuer !== undefined && { allowedIss: issuer }),
    ...(audience !== undefined && { allowedAud: audience }),
    requiredClaims: [
      ...(issuer !== undefined ? ['iss'] : []),
      ...(audience !== undefined ? ['aud'] : []),
    ],
  });
  const verified = new LRUCache<string, Verified>({ max: TOKEN_CACHE_SIZE });

  function principalOf(token: string): Principal {
    const now = Date.now();
    const hit = verified.get(token);
    if (hit && now >= hit.from && now < hit.until) return hit.principal;
    let payload: { exp?: unknown; nbf?: unknown };
    try {
      payload = verify(token);
    } catch (error) {
      const expired = error instanceof TokenError && error.code === TokenError.codes.expired;
      throw new ApiError(
        'UNAUTHORIZED',
        expired ? 'The token has expired' : 'The token is invalid',
      );
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) {
      throw new ApiError(
        'UNAUTHORIZED',
        'The token needs a `sub` (a plain id, not a system actor) and a `role` of admin or user',
      );
    }
    const principal: Principal = { sub: claims.data.sub, role: claims.data.role };
    const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY;
    verified.set(token, {
      principal,
      from: typeof payload.nbf === 'number' ? payload.nbf * 1000 - CLOCK_LEEWAY_MS : 0,
      until: Math.min(exp + CLOCK_LEEWAY_MS, now + TOKEN_CACHE_TTL_MS),
    });
    return principal;
  }

  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(header);
    let principal: Principal;
    try {
      if (!match?.[1]) throw new ApiError('UNAUTHORIZED', 'A bearer token is required');
      principal = principalOf(match[1]);
    } catch (error) {
      await onFailure?.(c);
      throw error;
    }
    c.set('principal', principal);
    await next();
  };
}

export function requireAdmin(principal: Principal): void {
  if (principal.role !== 'admin') throw new ApiError('FORBIDDEN', 'This action is for admins');
}
