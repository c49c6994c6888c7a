import type { EntityManager } from '@mikro-orm/postgresql';
import { type Fence, inFencedTransaction } from '../infra/db/fence.js';
import { query } from '../infra/db/sql.js';

const DAY_MS = 86_400_000;

export interface PruneOptions {
  now: Date;
  /** Published outbox rows older than this many days go. */
  outboxDays: number;
  /** Applied payment events older than this many days go. */
  paymentEventDays: number;
  /** Rows per statement. @defaultValue 500 */
  batchSize?: number;
  /** Statements per table and sweep, so one sweep stays short; the next goes on. @defaultValue 100 */
  maxBatches?: number;
  /** Run last in each delete's transaction when the sweep runs under a lock. */
  fence?: Fence | undefined;
}

/**
 * Retention: deletes published outbox rows and applied payment events past their age, in small
 * batches, each one statement in its own transaction (with the lock's fence, when given).
 * Candidates are taken with SKIP LOCKED, so a batch never waits for a row a live path holds (the
 * relay's claim, a bridge's apply) and never holds one for longer than its own delete. Unpublished outbox rows and unapplied events are never
 * touched; coupon history and the audit log are kept for good.
 */
export async function pruneOld(
  fork: () => EntityManager,
  { now, outboxDays, paymentEventDays, batchSize = 500, maxBatches = 100, fence }: PruneOptions,
): Promise<{ outbox: number; paymentEvents: number }> {
  const outboxBefore = new Date(now.getTime() - outboxDays * DAY_MS);
  const eventsBefore = new Date(now.getTime() - paymentEventDays * DAY_MS);
  const outbox = await inBatches(batchSize, maxBatches, (limit) =>
    deleted(
      fork(),
      fence,
      // Oldest first by id (the outbox is written in id order), so each batch reads the index's
      // left edge instead of scanning for its rows.
      `with gone as (
         delete from outbox where id in (
           select id from outbox
            where published_at is not null and published_at < ?
            order by id limit ? for update skip locked)
         returning 1)
       select count(*)::int as n from gone`,
      [outboxBefore, limit],
    ),
  );
  const paymentEvents = await inBatches(batchSize, maxBatches, (limit) =>
    deleted(
      fork(),
      fence,
      `with gone as (
         delete from payment_events where event_id in (
           select event_id from payment_events
            where applied_at is not null and applied_at < ?
            limit ? for update skip locked)
         returning 1)
       select count(*)::int as n from gone`,
      [eventsBefore, limit],
    ),
  );
  return { outbox, paymentEvents };
}

async function deleted(
  em: EntityManager,
  fence: Fence | undefined,
  sql: string,
  params: unknown[],
): Promise<number> {
  const run = async (tx: EntityManager) => (await query<{ n: number }>(tx, sql, params))[0]?.n;
  // Without a fence, one statement needs no transaction of its own.
  const n = fence ? await inFencedTransaction(em, fence, run) : await run(em);
  return n ?? 0;
}

async function inBatches(
  batchSize: number,
  maxBatches: number,
  batch: (limit: number) => Promise<number>,
): Promise<number> {
  let total = 0;
  for (let i = 0; i < maxBatches; i += 1) {
    const n = await batch(batchSize);
    total += n;
    if (n < batchSize) break;
  }
  return total;
}
