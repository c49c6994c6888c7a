import type { JobQueue, PaymentChunk, PaymentEventStore } from './ports.js';

/**
 * Takes a chunk of one partition's accepted payment events: records them as pending (once per
 * `eventId`) and hands the ones still pending to the usage queue as one PAYMENT job (its id
 * derived from the events, so a redelivery adds no second job). Both are durable when this
 * resolves; the workers apply the events ({@link ../process-payments.js}).
 */
export async function recordPaymentEvents(
  ports: { paymentEvents: PaymentEventStore; jobs: Pick<JobQueue, 'enqueuePayments'> },
  chunk: PaymentChunk,
): Promise<void> {
  const pending = await ports.paymentEvents.record(chunk);
  if (pending.length === 0) return;
  await ports.jobs.enqueuePayments(pending);
}
