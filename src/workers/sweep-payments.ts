import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { query } from '../infra/db/sql.js';
import { applyPaymentEvents } from './apply-payment.js';

export interface PaymentSweepResult {
  /** Orders whose pending events were applied. */
  orders: number;
  /** Events applied. */
  events: number;
  policyIds: Set<string>;
}

/**
 * Applies payment events recorded at least `olderThanMs` ago and still pending: the queue only
 * delivers, PostgreSQL is the truth, so an event whose job was lost (Redis data loss) or spent its
 * attempts is applied here. Each batch of orders goes through {@link applyPaymentEvents}, which
 * locks the pending rows: a worker applying the same order at the same time waits, then finds
 * nothing left, and the other way round.
 *
 * @param options.batchSize orders per transaction. @defaultValue 500
 */
export async function sweepPendingPayments(
  fork: () => EntityManager,
  {
    now,
    olderThanMs,
    batchSize = 500,
    logger,
  }: { now: Date; olderThanMs: number; batchSize?: number; logger?: Pick<Logger, 'warn'> },
): Promise<PaymentSweepResult> {
  const result: PaymentSweepResult = { orders: 0, events: 0, policyIds: new Set() };
  const before = new Date(now.getTime() - olderThanMs);
  let after = '';
  for (;;) {
    // Keyset over order ids, so an order whose events stay pending (an outage mid-sweep throws
    // instead) is never read twice in one sweep.
    const rows = await query<{ orderId: string }>(
      fork(),
      `select distinct order_id as "orderId" from payment_events
        where applied_at is null and received_at <= ? and order_id > ?
        order by order_id limit ?`,
      [before, after, batchSize],
    );
    if (rows.length === 0) break;
    const orderIds = rows.map((row) => row.orderId);
    const applied = await applyPaymentEvents(fork(), orderIds, now, { ...(logger && { logger }) });
    for (const { applied: events, policyIds } of applied.values()) {
      result.events += events.length;
      for (const id of policyIds) result.policyIds.add(id);
    }
    result.orders += orderIds.length;
    after = orderIds[orderIds.length - 1] ?? after;
    if (rows.length < batchSize) break;
  }
  return result;
}

/** Forgets stored usage-job results older than `days`: no job is retried that long after. */
export async function pruneJobResults(em: EntityManager, now: Date, days = 7): Promise<void> {
  await query(em, 'delete from usage_job_results where at < ?', [
    new Date(now.getTime() - days * 86_400_000),
  ]);
}
