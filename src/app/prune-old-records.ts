import type { Fence, RetentionStore } from './ports.js';

const DAY_MS = 86_400_000;

export interface PruneOptions {
  now: Date;
  /** Published outbox rows older than this many days go. */
  outboxDays: number;
  /** Applied payment events older than this many days go. */
  paymentEventDays: number;
  /** Stored usage-job results older than this many days go: no job is retried that long after. @defaultValue 7 */
  jobResultDays?: number;
  /** Rows per statement. @defaultValue 500 */
  batchSize?: number;
  /** Statements per table and sweep, so one sweep stays short; the next goes on. @defaultValue 100 */
  maxBatches?: number;
  /** Carried by every delete when the sweep runs under a lock. */
  fence?: Fence | undefined;
}

/**
 * Retention: deletes published outbox rows and applied payment events past their age, in small
 * batches, each one statement and its own transaction (the store takes candidates with SKIP
 * LOCKED, so a batch never waits for a row a live path holds), then the stored results of old
 * usage jobs, then the encrypted codes of code batches whose export expired. Unpublished outbox rows and unapplied events are never touched; coupon history and
 * the audit log are kept for good.
 */
export async function pruneOldRecords(
  ports: { retention: RetentionStore },
  {
    now,
    outboxDays,
    paymentEventDays,
    jobResultDays = 7,
    batchSize = 500,
    maxBatches = 100,
    fence,
  }: PruneOptions,
): Promise<{ outbox: number; paymentEvents: number; codeExports: number }> {
  const { retention } = ports;
  const outboxBefore = new Date(now.getTime() - outboxDays * DAY_MS);
  const eventsBefore = new Date(now.getTime() - paymentEventDays * DAY_MS);
  const outbox = await inBatches(batchSize, maxBatches, (limit) =>
    retention.pruneOutbox(outboxBefore, limit, fence),
  );
  const paymentEvents = await inBatches(batchSize, maxBatches, (limit) =>
    retention.prunePaymentEvents(eventsBefore, limit, fence),
  );
  await retention.pruneActionResults(new Date(now.getTime() - jobResultDays * DAY_MS), fence);
  const codeExports = await inBatches(batchSize * 10, maxBatches * 10, (limit) =>
    retention.pruneCodeExports(now, limit, fence),
  );
  return { outbox, paymentEvents, codeExports };
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
