import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePaymentMessage } from '../../src/infra/kafka/payment-event.js';

const event = (overrides: Record<string, unknown> = {}) => ({
  eventId: randomUUID(),
  type: 'PAYMENT_COMPLETED',
  orderId: 'order-1',
  userId: 'alice',
  amount: 42_000,
  occurredAt: '2026-11-25T10:00:00.000Z',
  ...overrides,
});

/** A message as the producer would send it: the key is the orderId unless told otherwise. */
function parse(value: Record<string, unknown>, key = String(value.orderId)) {
  return parsePaymentMessage({ key: Buffer.from(key), value: Buffer.from(JSON.stringify(value)) });
}

describe('parsePaymentMessage', () => {
  it('accepts a well-formed event whose key is its orderId', () => {
    const value = event({ orderId: '주문-😀-1', extra: 'dropped' });
    const parsed = parse(value);
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && parsed.event).toEqual({ ...value, extra: undefined });
  });

  it('refuses a string PostgreSQL cannot store, or a control character, as INVALID_EVENT', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ orderId: 'ord\u0000er' }, 'orderId: must not contain a NUL character'],
      [{ userId: 'al\ud800ice' }, 'userId: must not contain a lone surrogate'],
      [{ userId: '\udc00' }, 'userId: must not contain a lone surrogate'],
      [{ orderId: 'order\n1' }, 'orderId: must not contain control characters'],
      [{ userId: 'bell\u0007' }, 'userId: must not contain control characters'],
      [{ orderId: 'c1\u0085' }, 'orderId: must not contain control characters'],
      [{ orderId: 'x'.repeat(201) }, 'orderId: must be at most 200 characters'],
      [{ userId: 'y'.repeat(5000) }, 'userId: must be at most 200 characters'],
    ];
    for (const [overrides, message] of cases) {
      // The key matches byte for byte where it can (a lone surrogate has no UTF-8 form).
      const parsed = parse(event(overrides));
      expect(parsed, JSON.stringify(overrides)).toMatchObject({ ok: false, code: 'INVALID_EVENT' });
      expect(!parsed.ok && parsed.message).toContain(message);
    }
    expect(parse(event({ orderId: 'x'.repeat(200), userId: 'y'.repeat(200) })).ok).toBe(true);
  });

  it('refuses a message whose key is not its orderId as KEY_MISMATCH', () => {
    const value = Buffer.from(JSON.stringify(event()));
    for (const key of [Buffer.from('order-2'), Buffer.from('order-1 '), Buffer.from(''), null]) {
      expect(parsePaymentMessage({ key, value })).toMatchObject({
        ok: false,
        code: 'KEY_MISMATCH',
      });
    }
  });

  it('keeps schema violations and non-JSON apart from unstorable strings', () => {
    expect(parse(event({ amount: 2 ** 53 }))).toMatchObject({ code: 'SCHEMA_VIOLATION' });
    expect(parse(event({ orderId: '' }))).toMatchObject({ code: 'SCHEMA_VIOLATION' });
    expect(parse(event({ occurredAt: '0000-01-01T00:00:00Z' }))).toMatchObject({
      code: 'SCHEMA_VIOLATION',
    });
    expect(parsePaymentMessage({ key: null, value: Buffer.from([0xff, 0xfe]) })).toMatchObject({
      code: 'INVALID_JSON',
    });
    expect(parsePaymentMessage({ key: null, value: null })).toMatchObject({ code: 'INVALID_JSON' });
  });
});
