import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Message, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/infra/kafka/client.js';
import { bridgeHarness, type couponRows, header } from '../support/bridge.js';
import { waitFor } from '../support/payments.js';
import { services, uniqueName } from '../support/services.js';

const HOSTILE = 500;
const VALID = 100;
const FUZZ_ID = 'x-fuzz-id';

type Fields = Record<string, unknown>;

/** A well-formed event for `orderId`, with any extra fields (which the bridge drops). */
const validEvent = (orderId: string, userId: string, extra: Fields = {}): Fields => ({
  ...extra,
  eventId: randomUUID(),
  type: 'PAYMENT_COMPLETED',
  orderId,
  userId,
  amount: 30_000,
  occurredAt: new Date().toISOString(),
});

const extraFields = fc.dictionary(
  fc.string({ maxLength: 10 }).filter((key) => !(key in validEvent('o', 'u'))),
  fc.jsonValue({ maxDepth: 3 }),
  { maxKeys: 4 },
);

/** A string the bridge must never store: a NUL, a lone surrogate or a control character inside. */
const unstorable = fc
  .tuple(
    fc.string({ maxLength: 20 }),
    fc.constantFrom('\u0000', '\ud800', '\udfff', '\u0007', '\n', '\u001b', '\u007f', '\u0085'),
    fc.string({ maxLength: 20 }),
  )
  .map(([before, bad, after]) => `${before}${bad}${after}`);
const tooLong = fc.integer({ min: 201, max: 5000 }).map((n) => 'x'.repeat(n));
const oddString = fc.oneof(unstorable, tooLong, fc.constant(''));

/** A field value of the wrong kind: huge or fractional numbers, deep structures, text for numbers. */
const wrongValue = fc.oneof(
  fc.constantFrom(2 ** 64, -1, 1.5, Number.MAX_VALUE, true, null),
  // Never a string (it could be a valid id) nor a safe integer ≥ 0 (a valid amount).
  fc
    .jsonValue({ maxDepth: 6 })
    .filter((v) => typeof v !== 'string' && !(Number.isSafeInteger(v) && (v as number) >= 0)),
);

/** A message value and key, each hostile in its own way; `orderId` is the message's own. */
function hostileFor(
  orderId: string,
): fc.Arbitrary<{ key: Buffer | string | null; value: Buffer | string | null }> {
  const asJson = (value: Fields) => ({ key: orderId, value: JSON.stringify(value) });
  const base = (extra: Fields) => validEvent(orderId, 'fuzz-user', extra);
  return fc.oneof(
    // Random bytes, and text that is not JSON.
    fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ key: orderId, value: Buffer.from(bytes) })),
    fc.string({ maxLength: 200 }).map((text) => ({ key: orderId, value: `{${text}` })),
    fc.constant({ key: orderId, value: null }),
    // JSON nested far deeper than any event.
    fc.integer({ min: 1000, max: 50_000 }).map((depth) => ({
      key: orderId,
      value: `${'['.repeat(depth)}${']'.repeat(depth)}`,
    })),
    fc.integer({ min: 100, max: 5000 }).map((depth) => ({
      key: orderId,
      // Written as text: JSON.stringify itself recurses.
      value: JSON.stringify(base({})).replace(
        JSON.stringify({ orderId }).slice(1, -1),
        `"orderId":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
      ),
    })),
    // Huge numbers written as JSON text (beyond a double, beyond bigint).
    fc
      .constantFrom('1e400', '123456789012345678901234567890', '-0.5', '9223372036854775808')
      .map((amount) => ({
        key: orderId,
        value: JSON.stringify(base({})).replace('"amount":30000', `"amount":${amount}`),
      })),
    // A field with a value of the wrong kind, or missing, next to extra fields.
    fc
      .tuple(
        fc.constantFrom('eventId', 'type', 'userId', 'amount', 'occurredAt'),
        wrongValue,
        extraFields,
      )
      .map(([field, value, extra]) => asJson({ ...base(extra), [field]: value })),
    fc
      .tuple(
        fc.constantFrom('eventId', 'type', 'orderId', 'userId', 'amount', 'occurredAt'),
        extraFields,
      )
      .map(([field, extra]) => {
        const event = base(extra);
        delete event[field];
        return asJson(event);
      }),
    // Odd strings where strings belong.
    fc
      .tuple(fc.constantFrom('userId', 'type', 'eventId', 'occurredAt'), oddString)
      .map(([field, value]) => asJson({ ...base({}), [field]: value })),
    oddString.map((value) => ({
      key: Buffer.from(value),
      value: JSON.stringify({ ...base({}), orderId: value }),
    })),
    fc
      .constantFrom('2026-11-25T10:00:00', '0000-01-01T00:00:00Z', '2026-02-30T00:00:00Z')
      .map((occurredAt) => asJson({ ...base({}), occurredAt })),
    // A valid event under a key that is not its orderId.
    fc
      .oneof(
        fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
        fc.constant(null),
        fc.constant(`${orderId}-other`),
      )
      .map((key) => ({ key, value: JSON.stringify(base({})) })),
  );
}

/** A hostile message of an order of its own, so they spread over the partitions as keys do. */
const hostile = fc.uuid().chain((id) => hostileFor(`fuzz-${id.slice(0, 8)}`));

/**
 * Hostile payment messages, interleaved with valid ones on the real broker and database: every
 * valid event is applied, every hostile message lands in the DLQ, and the consumer lag returns to 0.
 */
describe('the payment bridge under hostile messages', () => {
  const kafka = createKafka({ brokers: services().kafkaBrokers, clientId: uniqueName('test') });
  const topic = uniqueName('test.payments');
  let harness: Awaited<ReturnType<typeof bridgeHarness>>;
  let rows: Awaited<ReturnType<typeof couponRows>>;
  let producer: Producer;

  beforeAll(async () => {
    harness = await bridgeHarness(kafka);
    ({ rows, producer } = harness);
    harness.topics.push(topic, `${topic}.dlq`);
  });
  afterAll(() => harness?.close());

  it(`applies ${VALID} valid events and sends ${HOSTILE} hostile messages to the DLQ`, async () => {
    const { bridge, lines, dlq } = await harness.startBridge(topic);

    const valid: { orderId: string; userId: string; couponId: string }[] = [];
    for (let i = 0; i < VALID; i++) {
      const orderId = `fuzz-order-${i}-${randomUUID().slice(0, 8)}`;
      valid.push({
        orderId,
        userId: `fuzz-user-${i}`,
        couponId: await rows.reserved(orderId, `fuzz-user-${i}`),
      });
    }

    const messages = fc.array(hostile, {
      minLength: HOSTILE,
      maxLength: HOSTILE,
    });
    // fc.check rather than fc.assert: a failure names its seed without printing 500 messages.
    const result = await fc.check(
      fc.asyncProperty(messages, async (bad) => {
        const sent: Message[] = bad.map((message, i) => ({
          ...message,
          headers: { [FUZZ_ID]: `bad-${i}` },
        }));
        // Each valid event after every fifth hostile one, so they share chunks and partitions.
        valid.forEach(({ orderId, userId }, i) => {
          sent.splice(i * 6, 0, {
            key: orderId,
            value: JSON.stringify(
              validEvent(orderId, userId, { note: 'extra fields are dropped' }),
            ),
            headers: { [FUZZ_ID]: `good-${i}` },
          });
        });
        // Small sends: a deep-JSON message is up to 100 kB, a record batch at most 1 MB.
        for (let i = 0; i < sent.length; i += 20) {
          await producer.send({ topic, acks: -1, messages: sent.slice(i, i + 20) });
        }

        await waitFor(
          'every hostile message in the DLQ',
          async () => new Set(dlq.messages.map((m) => header(m, FUZZ_ID))).size >= HOSTILE,
          40_000,
        );
        await waitFor(
          'every valid event applied',
          async () =>
            (await rows.statuses(valid.map((v) => v.couponId))).every((s) => s === 'USED'),
          20_000,
        );
        await waitFor('lag 0', async () => (await bridge.lag()) === 0, 20_000);
        const dead = new Set(dlq.messages.map((m) => header(m, FUZZ_ID)));
        expect([...dead].sort()).toEqual(bad.map((_, i) => `bad-${i}`).sort());
        for (const message of dlq.messages) {
          expect(header(message, 'x-error-code')).toMatch(
            /^(INVALID_JSON|SCHEMA_VIOLATION|INVALID_EVENT|KEY_MISMATCH|PROCESSING_FAILED)$/,
          );
          expect(header(message, 'x-original-topic')).toBe(topic);
        }
        const { rows: recorded } = await rows.client.query(
          'select count(*)::int as n from payment_events where applied_at is not null',
        );
        expect(recorded[0].n).toBe(VALID);
      }),
      { numRuns: 1, endOnFailure: true },
    );
    if (result.failed) {
      throw new Error(`hostile messages (seed ${result.seed}): ${String(result.errorInstance)}`);
    }
    // None reached the database as a failing statement: every refusal happened before it.
    expect(lines.filter((line) => line.msg === 'payment event failed')).toEqual([]);
  }, 90_000);
});
