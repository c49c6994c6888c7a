import type { EntityManager } from '@mikro-orm/postgresql';
import type { RetentionStore } from '../../app/ports.js';
import { query } from './sql.js';

/**
 * Retention in PostgreSQL: each delete is one statement in its own transaction, its candidates
 * taken with SKIP LOCKED, so it never waits for a row a live path holds (the relay's claim, a
 * bridge's apply) and never holds one for longer than its own delete.
 */
export function retentionStore(fork: () => EntityManager): RetentionStore {
  return {
    pruneOutbox: (before, limit) =>
      deleted(
        fork(),
        // Oldest first by id (the outbox is written in id order), so each batch reads the index's
        // left edge instead of scanning for its rows.
        `with gone as (
           delete from outbox where id in (
             select id from outbox
              where published_at is not null and published_at < ?
              order by id limit ? for update skip locked)
           returning 1)
         select count(*)::int as n from gone`,
        [before, limit],
      ),
    prunePaymentEvents: (before, limit) =>
      deleted(
        fork(),
        `with gone as (
           delete from payment_events where event_id in (
             select event_id from payment_events
              where applied_at is not null and applied_at < ?
              limit ? for update skip locked)
           returning 1)
         select count(*)::int as n from gone`,
        [before, limit],
      ),
    async pruneActionResults(before) {
      await query(fork(), 'delete from usage_job_results where at < ?', [before]);
    },
  };
}

async function deleted(em: EntityManager, sql: string, params: unknown[]): Promise<number> {
  const [row] = await query<{ n: number }>(em, sql, params);
  return row?.n ?? 0;
}
