import type { Queue } from 'bullmq';
import type { PendingPayment } from '../app/ports.js';
import { recordPaymentEvents } from '../app/record-payment-events.js';
import type { Orm } from '../infra/db/orm.js';
import {
  type PaymentBridge,
  type PaymentBridgeOptions,
  startPaymentBridge as startKafkaBridge,
} from '../infra/kafka/payment-bridge.js';
import { enqueuePayments } from '../infra/queue/job-queue.js';
import type { UsageJobData } from '../infra/queue/jobs.js';
import { databasePorts } from './ports.js';

/**
 * The payment bridge wired to its use case: each chunk of accepted events is recorded in
 * PostgreSQL and handed to the usage queue (`recordPaymentEvents`).
 */
export function startPaymentBridge({
  orm,
  usageQueue,
  ...options
}: Omit<PaymentBridgeOptions, 'record' | 'dependenciesAnswer'> & {
  orm: Orm;
  /** The usage queue: each chunk's recorded events become a PAYMENT job, which a worker applies. */
  usageQueue: Queue<UsageJobData>;
}): Promise<PaymentBridge> {
  const ports = {
    paymentEvents: databasePorts(orm).paymentEvents,
    jobs: { enqueuePayments: (events: PendingPayment[]) => enqueuePayments(usageQueue, events) },
  };
  return startKafkaBridge({
    ...options,
    record: (chunk) => recordPaymentEvents(ports, chunk),
    dependenciesAnswer: async () => {
      await Promise.all([orm.em.getConnection().execute('select 1'), usageQueue.count()]);
      return true;
    },
  });
}
