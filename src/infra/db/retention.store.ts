import type { EntityManager } from '@mikro-orm/postgresql';
import type { Fence, RetentionStore } from '../../app/ports.js';
import { inFencedTransaction } from './fence.js';
import { query } from './sql.js';

/**
 * Retention in PostgreSQL: each delete is one statement in its own transaction, its candidates
 * taken with SKIP LOCKED, so it never waits for a row a live path holds (the relay's claim, a
 * bridge's apply) and never holds one for longer than its own delete. Under a lock, each delete
 * carries the holder's fence.
 */
export function retentionStore(fork: () => EntityManager): RetentionStore {
  return {
    pruneOutbox: (before, limit, fence) =>
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
        [before, limit],
      ),
    prunePaymentEvents: (before, limit, fence) =>
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
        [before, limit],
      ),
    pruneCodeExports: (now, limit, fence) =>
      deleted(
        fork(),
        fence,
        `with gone as (
           delete from code_batch_codes where (batch_id, seq) in (
             select c.batch_id, c.seq from code_batch_codes c
               join code_batches b on b.id = c.batch_id
              where b.export_expires_at < ?
              limit ? for update of c skip locked)
           returning 1)
         select count(*)::int as n from gone`,
        [now, limit],
      ),
    async pruneActionResults(before, fence) {
      await inFencedTransaction(fork(), fence, (tx) =>
        query(tx, 'delete from usage_job_results where at < ?', [before]),
      );
    },
  };
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
