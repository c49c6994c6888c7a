import { z } from 'zod';
import { PAYMENT_EVENT_TYPES } from '../../domain/payment.js';
import { textProblem, textProblemMessage } from '../../domain/text.js';

/**
 * The value of a message on the payment topic. Unknown extra fields are dropped, not refused, so the
 * payment service can add fields without breaking the bridge.
 */
export const paymentEventSchema = z.object({
  // The same check as the PAYMENT job's `eventId`: an event the bridge accepts, the worker accepts.
  eventId: z.uuid(),
  type: z.enum(PAYMENT_EVENT_TYPES),
  // Their content and length are checked after the schema (INVALID_EVENT rather than a schema error).
  orderId: z.string().min(1),
  userId: z.string().min(1),
  amount: z.number().int().min(0),
  // A zone is required: without one, the instant would depend on the database session's time zone.
  // Year 0000 passes the ISO pattern but PostgreSQL has no year 0.
  occurredAt: z.iso
    .datetime({ offset: true })
    .refine((value) => !value.startsWith('0000'), 'year 0000 does not exist'),
});
export type PaymentEvent = z.infer<typeof paymentEventSchema>;

/**
 * Why the bridge refuses a message: not JSON, not the schema, a string PostgreSQL cannot store (or
 * one too long), a key that is not the event's `orderId`.
 */
export type PaymentMessageError =
  | 'INVALID_JSON'
  | 'SCHEMA_VIOLATION'
  | 'INVALID_EVENT'
  | 'KEY_MISMATCH';

/** The longest string of an event that is stored. */
export const MAX_EVENT_TEXT = 200;
const TEXT_FIELDS = ['eventId', 'type', 'orderId', 'userId', 'occurredAt'] as const;

export type ParsedPaymentMessage =
  | { ok: true; event: PaymentEvent }
  | { ok: false; code: PaymentMessageError; message: string };

const MAX_MESSAGE_LENGTH = 300;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const shorten = (text: string) =>
  text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : text;

/** Why a field of an event that passed the schema cannot be stored, or null when all can. */
function storableProblem(event: PaymentEvent): string | null {
  for (const field of TEXT_FIELDS) {
    const problem = textProblem(event[field]);
    if (problem) return `${field}: ${textProblemMessage(problem)}`;
    if (event[field].length > MAX_EVENT_TEXT) {
      return `${field}: must be at most ${MAX_EVENT_TEXT} characters`;
    }
  }
  return null;
}

/**
 * Parses a message: its value must be a payment event whose every string can be stored, and its
 * key the event's `orderId` (the key chooses the partition, and the partition the order in which
 * an order's events apply). A refusal says why in a line short enough for a Kafka header.
 */
export function parsePaymentMessage({
  key,
  value,
}: {
  key: Buffer | null;
  value: Buffer | null;
}): ParsedPaymentMessage {
  let data: unknown;
  try {
    if (value === null || value.length === 0) throw new Error('the value is empty');
    data = JSON.parse(utf8.decode(value));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, code: 'INVALID_JSON', message: shorten(`not JSON: ${reason}`) };
  }
  const result = paymentEventSchema.safeParse(data);
  if (result.success) {
    const problem = storableProblem(result.data);
    if (problem) return { ok: false, code: 'INVALID_EVENT', message: problem };
    if (!key?.equals(Buffer.from(result.data.orderId))) {
      return { ok: false, code: 'KEY_MISMATCH', message: 'the message key is not the orderId' };
    }
    return { ok: true, event: result.data };
  }
  const issues = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(value)'}: ${issue.message}`,
  );
  return { ok: false, code: 'SCHEMA_VIOLATION', message: shorten(issues.join('; ')) };
}
