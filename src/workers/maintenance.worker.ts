import { afterCommit } from '../app/after-commit.js';
import { expireCoupons } from '../app/expire-coupons.js';
import type { Ports } from '../app/ports.js';
import { pruneOldRecords } from '../app/prune-old-records.js';
import { sweepPendingPayments } from '../app/sweep-pending-payments.js';
import type { PaymentService } from '../domain/index.js';

export interface MaintenanceSettings {
  reservationTtlMs: number;
  reservationMaxExtensions: number;
  paymentPendingSweepMs: number;
  outboxRetentionDays: number;
  paymentEventRetentionDays: number;
  /** Asked before a reservation times out; without it, reservations time out at the TTL. */
  paymentService?: PaymentService | undefined;
}

type Info = { info(details: Record<string, unknown>, message: string): void };

/** The scheduler's jobs: the expiry sweep, the sweep of pending payments, retention pruning. */
export function maintenanceProcessor(
  ports: Ports,
  settings: MaintenanceSettings,
  logger: Ports['log'] & Info,
): (job: 'expire' | 'payment-sweep' | 'prune') => Promise<unknown> {
  async function expire() {
    const result = await expireCoupons(ports, {
      now: ports.clock.now(),
      ttlMs: settings.reservationTtlMs,
      paymentService: settings.paymentService,
      maxExtensions: settings.reservationMaxExtensions,
    });
    await afterCommit(logger, 'statistics', () => ports.statistics.changed(result.policyIds));
    const { expired, released, used } = result;
    if (expired + released + used > 0) logger.info({ expired, released, used }, 'expiry sweep');
    return { expired, released, used };
  }

  async function sweepPayments() {
    const result = await sweepPendingPayments(ports, {
      now: ports.clock.now(),
      olderThanMs: settings.paymentPendingSweepMs,
      logger,
    });
    await afterCommit(logger, 'statistics', () => ports.statistics.changed(result.policyIds));
    if (result.events > 0) {
      logger.warn(
        { orders: result.orders, events: result.events },
        'pending payment events applied by the sweep (their queue jobs did not apply them)',
      );
    }
    return { orders: result.orders, events: result.events };
  }

  async function prune() {
    const pruned = await pruneOldRecords(ports, {
      now: ports.clock.now(),
      outboxDays: settings.outboxRetentionDays,
      paymentEventDays: settings.paymentEventRetentionDays,
    });
    if (pruned.outbox + pruned.paymentEvents > 0) logger.info(pruned, 'retention sweep');
    return pruned;
  }

  return (job) =>
    job === 'payment-sweep' ? sweepPayments() : job === 'prune' ? prune() : expire();
}
