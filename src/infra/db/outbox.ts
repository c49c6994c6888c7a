import type { EntityManager } from '@mikro-orm/postgresql';
import type { CouponEvent } from '../../domain/index.js';
import { json, query } from './sql.js';

/** Writes events to the outbox in the caller's transaction: they exist exactly when the change does. */
export async function insertOutbox(tx: EntityManager, events: CouponEvent[]): Promise<void> {
  if (events.length === 0) return;
  await query(
    tx,
    `insert into outbox (event_id, event_type, message_key, payload)
     select (e->>'eventId')::uuid, e->>'type', e->>'couponId', e
       from jsonb_array_elements(?::jsonb) e`,
    [json(events)],
  );
}

/** Rows written but not yet acknowledged by Kafka (partial index `outbox_pending`). */
export async function outboxBacklog(em: EntityManager): Promise<number> {
  const [row] = await query<{ count: number }>(
    em,
    'select count(*)::int as count from outbox where published_at is null',
  );
  return row?.count ?? 0;
}
