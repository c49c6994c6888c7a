import { describe, expect, it } from 'vitest';
import { decideTimeout, maxReservationAgeMs } from '../../src/domain/index.js';
import { at, NOW } from './fixtures.js';

const TTL = 15 * 60_000;
const rules = { ttlMs: TTL, maxExtensions: 2 };
/** A reservation `ageMs` old with `extensions` granted, seen at NOW. */
const r = (ageMs: number, extensions = 0) => ({ reservedAt: at(-ageMs), extensions });

describe('decideTimeout: a reservation past its expiry, by the payment service’s answer', () => {
  it('uses a paid order, releases a failed, cancelled or unknown one', () => {
    expect(decideTimeout('COMPLETED', r(TTL), NOW, rules)).toBe('USE');
    for (const answer of ['FAILED', 'CANCELLED', 'NOT_FOUND'] as const) {
      expect(decideTimeout(answer, r(TTL), NOW, rules)).toBe('RELEASE');
    }
  });

  it('extends a pending payment at most maxExtensions times', () => {
    expect(decideTimeout('PENDING', r(TTL, 0), NOW, rules)).toBe('EXTEND');
    expect(decideTimeout('PENDING', r(2 * TTL, 1), NOW, rules)).toBe('EXTEND');
    expect(decideTimeout('PENDING', r(3 * TTL, 2), NOW, rules)).toBe('RELEASE');
    expect(decideTimeout('PENDING', r(TTL, 0), NOW, { ttlMs: TTL, maxExtensions: 0 })).toBe(
      'RELEASE',
    );
  });

  it('keeps a reservation while the service does not answer, until the maximum age', () => {
    expect(maxReservationAgeMs(rules)).toBe(3 * TTL);
    expect(decideTimeout('UNAVAILABLE', r(TTL), NOW, rules)).toBe('KEEP');
    expect(decideTimeout('UNAVAILABLE', r(3 * TTL - 1), NOW, rules)).toBe('KEEP');
    expect(decideTimeout('UNAVAILABLE', r(3 * TTL), NOW, rules)).toBe('RELEASE');
  });
});
