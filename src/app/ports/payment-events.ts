import type { PaymentEventType } from '../../domain/index.js';
import type { Fence } from './basics.js';
import type { PendingPayment } from './queues.js';

/** Payment events as the bridge records them, and retention. */

/** A payment event accepted from the payment topic. */
export interface PaymentEvent {
  eventId: string;
  type: PaymentEventType;
  orderId: string;
  userId: string;
  amount: number;
  occurredAt: string;
}

/** Accepted events of one partition of `topic`, in offset order. */
export interface PaymentChunk {
  topic: string;
  partition: number;
  events: { event: PaymentEvent; offset: string }[];
}

export interface PaymentEventStore {
  /**
   * Records the chunk's events as pending (once per `eventId`) and returns those of the chunk still
   * pending, in offset order.
   */
  record(chunk: PaymentChunk): Promise<PendingPayment[]>;
}

/** Retention pruning. */
/** Each delete is one transaction; with a `fence`, refused when a newer lock holder has written. */
export interface RetentionStore {
  /** Deletes up to `limit` published outbox rows published before `before`; returns how many. */
  pruneOutbox(before: Date, limit: number, fence?: Fence): Promise<number>;
  /** Deletes up to `limit` payment events applied before `before`; returns how many. */
  prunePaymentEvents(before: Date, limit: number, fence?: Fence): Promise<number>;
  /** Forgets stored usage-job results from before `before`. */
  pruneActionResults(before: Date, fence?: Fence): Promise<void>;
  /**
   * Deletes up to `limit` encrypted codes of batches whose export expired before `now`; returns
   * how many.
   */
  pruneCodeExports(now: Date, limit: number, fence?: Fence): Promise<number>;
}
