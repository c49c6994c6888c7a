import { afterCommit } from '../app/after-commit.js';
import { expireCoupons } from '../app/expire-coupons.js';
import type { Fence, Ports, SweepLock } from '../app/ports.js';
import { pruneOldRecords } from '../app/prune-old-records.js';
import { sweepPendingPayments } from '../app/sweep-pending-payments.js';
import type { PaymentService } from '../domain/index.js';

export interface MaintenanceSettings {
  reservationTtlMs: number;
  /** Coupons changed per expiry transaction. */
  expiryBatchSize: number;
  reservationMaxExtensions: number;
  paymentPendingSweepMs: number;
  outboxRetentionDays: number;
  paymentEventRetentionDays: number;
  /** Asked before a reservation times out; without it, reservations time out at the TTL. */
  paymentService?: PaymentService | undefined;
}

/** The sweeps' lock resources. */
const EXPIRY_LOCK = 'expiry';
const RETENTION_LOCK = 'retention';

type Info = { info(details: Record<string, unknown>, message: string): void };

/** The scheduler's jobs: the expiry sweep, the sweep of pending payments, retention pruning. */
export function maintenanceProcessor(
  ports: Ports,
  lock: SweepLock,
  settings: MaintenanceSettings,
  logger: Ports['log'] & Info,
): (job: 'expire' | 'payment-sweep' | 'prune') => Promise<unknown> {
  // Expiry and retention run under a lock each, their writes fenced by its token: a stalled run
  // that outlives its lease cannot write after the run that took over.
  const expire = () => lock.run(EXPIRY_LOCK, expireUnder);
  async function expireUnder(fence: Fence) {
    const result = await expireCoupons(ports, {
      now: ports.clock.now(),
      ttlMs: settings.reservationTtlMs,
      batchSize: settings.expiryBatchSize,
      paymentService: settings.paymentService,
      maxExtensions: settings.reservationMaxExtensions,
      fence,
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

  const prune = () => lock.run(RETENTION_LOCK, pruneUnder);
  async function pruneUnder(fence: Fence) {
    const pruned = await pruneOldRecords(ports, {
      now: ports.clock.now(),
      outboxDays: settings.outboxRetentionDays,
      paymentEventDays: settings.paymentEventRetentionDays,
      fence,
    });
    if (pruned.outbox + pruned.paymentEvents + pruned.codeExports > 0)
      logger.info(pruned, 'retention sweep');
    return pruned;
  }

  return (job) =>
    job === 'payment-sweep' ? sweepPayments() : job === 'prune' ? prune() : expire();
}
