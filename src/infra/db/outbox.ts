import type { EntityManager } from '@mikro-orm/postgresql';
import { query } from './sql.js';

/**
 * `insert into outbox … select … from <from>`, for events held in the jsonb column or value `event`
 * of `from` (the event is the payload; its id, type and coupon fill the other columns). Shared by
 * statements that write their outbox rows beside other changes.
 */
export const insertOutboxFrom = (from: string, event = 'event'): string =>
  `insert into outbox (event_id, event_type, message_key, payload)
   select (${event}->>'eventId')::uuid, ${event}->>'type', ${event}->>'couponId', ${event}
     from ${from}`;

/** Rows written but not yet acknowledged by Kafka (partial index `outbox_pending`). */
export async function outboxBacklog(em: EntityManager): Promise<number> {
  const [row] = await query<{ count: number }>(
    em,
    'select count(*)::int as count from outbox where published_at is null',
  );
  return row?.count ?? 0;
}
