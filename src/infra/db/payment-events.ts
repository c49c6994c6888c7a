import type { EntityManager } from '@mikro-orm/postgresql';
import type { PaymentChunk, PaymentEvent, PendingPayment } from '../../app/ports.js';
import { json, pgArray, query } from './sql.js';

/** An event as a row of `payment_events` (for `jsonb_to_recordset`), with its Kafka offset. */
function paymentEventRow(event: PaymentEvent, offset: string) {
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

/**
 * Records a chunk of one partition's events as pending, in one statement (once per `eventId`: a
 * redelivered event inserts nothing), and returns those of the chunk still pending, in offset
 * order: the ones just inserted and earlier copies not applied yet (a previous delivery may have
 * died between recording and enqueueing). Events applied already are not returned.
 */
export function recordPendingPayments(
  em: EntityManager,
  chunk: PaymentChunk,
): Promise<PendingPayment[]> {
  const rows = chunk.events.map(({ event, offset }) => paymentEventRow(event, offset));
  return query<PendingPayment>(
    em,
    `with input as (
       select * from jsonb_to_recordset(?::jsonb) as r(
         event_id uuid, order_id text, event_type text, user_id text, amount bigint,
         occurred_at timestamptz, kafka_offset bigint)
     ), inserted as (
       insert into payment_events (event_id, order_id, event_type, user_id, amount, occurred_at,
                                   topic, kafka_partition, kafka_offset)
       select event_id, order_id, event_type, user_id, amount, occurred_at, ?, ?, kafka_offset
         from input order by kafka_offset
       on conflict (event_id) do nothing
       returning event_id, order_id, kafka_offset
     )
     select "eventId", "orderId" from (
       select event_id::text as "eventId", order_id as "orderId", kafka_offset from inserted
       union
       select p.event_id::text, p.order_id, p.kafka_offset
         from payment_events p join input using (event_id)
        where p.applied_at is null
     ) pending
     order by kafka_offset`,
    [json(rows), chunk.topic, chunk.partition],
  );
}

/** The recorded outcome of each of these events that has been applied. */
export async function paymentOutcomes(
  em: EntityManager,
  eventIds: string[],
): Promise<Map<string, string>> {
  const rows = await query<{ eventId: string; outcome: string }>(
    em,
    `select event_id::text as "eventId", outcome from payment_events
      where event_id = any(?::uuid[]) and applied_at is not null`,
    [pgArray(eventIds)],
  );
  return new Map(rows.map((row) => [row.eventId, row.outcome]));
}
