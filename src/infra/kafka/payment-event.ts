import { z } from 'zod';

export const PAYMENT_EVENT_TYPES = [
  'PAYMENT_COMPLETED',
  'PAYMENT_FAILED',
  'PAYMENT_CANCELLED',
] as const;

/**
 * The value of a message on the payment topic. Unknown extra fields are dropped, not refused, so the
 * payment service can add fields without breaking the bridge.
 */
export const paymentEventSchema = z.object({
  // The same check as the PAYMENT job's `eventId`: an event the bridge accepts, the worker accepts.
  eventId: z.uuid(),
  type: z.enum(PAYMENT_EVENT_TYPES),
  orderId: z.string().min(1).max(200),
  userId: z.string().min(1).max(200),
  amount: z.number().int().min(0),
  // A zone is required: without one, the instant would depend on the database session's time zone.
  occurredAt: z.iso.datetime({ offset: true }),
});
export type PaymentEvent = z.infer<typeof paymentEventSchema>;

export type PaymentMessageError = 'INVALID_JSON' | 'SCHEMA_VIOLATION';

export type ParsedPaymentMessage =
  | { ok: true; event: PaymentEvent }
  | { ok: false; code: PaymentMessageError; message: string };

const MAX_MESSAGE_LENGTH = 300;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const shorten = (text: string) =>
  text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : text;

/** Parses a message value; a refusal says why in a line short enough for a Kafka header. */
export function parsePaymentMessage(value: Buffer | null): ParsedPaymentMessage {
  let data: unknown;
  try {
    if (value === null || value.length === 0) throw new Error('the value is empty');
    data = JSON.parse(utf8.decode(value));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, code: 'INVALID_JSON', message: shorten(`not JSON: ${reason}`) };
  }
  const result = paymentEventSchema.safeParse(data);
  if (result.success) return { ok: true, event: result.data };
  const issues = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(value)'}: ${issue.message}`,
  );
  return { ok: false, code: 'SCHEMA_VIOLATION', message: shorten(issues.join('; ')) };
}

/** Accepted events of one partition of `topic`, in offset order, as the bridge hands them on. */
export interface PaymentChunk {
  topic: string;
  partition: number;
  events: { event: PaymentEvent; offset: string }[];
}

/** An event as a row of `payment_events` (for `jsonb_to_recordset`), with its Kafka offset. */
export function paymentEventRow(event: PaymentEvent, offset: string) {
  return {
    event_id: event.eventId,
    order_id: event.orderId,
    event_type: event.type,
    user_id: event.userId,
    amount: event.amount,
    occurred_at: event.occurredAt,
    kafka_offset: offset,
  };
}
