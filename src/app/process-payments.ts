import {
  type ClosedReservation,
  type Coupon,
  completeLatePayment,
  decidePayment,
  type Order,
  type PaymentDecision,
  payableAmount,
  refund,
} from '../domain/index.js';
import { afterCommit } from './after-commit.js';
import { isolateFailures, type Settled } from './isolate.js';
import type {
  Change,
  Clock,
  CouponStore,
  FailureKinds,
  LockedCoupon,
  OrderPayments,
  PendingPayment,
  PendingPaymentEvent,
  Statistics,
  Warn,
} from './ports.js';

const ACTOR = 'system:payment';

export interface PaymentResult {
  /** The events of the order this call applied, in offset order, with what each did. */
  applied: { eventId: string; type: string; outcome: string; couponIds: string[] }[];
  /** Policies whose coupons changed (for the statistics cache). */
  policyIds: string[];
  /**
   * Every coupon the call changed, as its transaction left it, by id: one map shared by the
   * results of all the call's orders (a coupon can change for two orders in one call).
   */
  coupons: Map<string, Coupon>;
}

/** The reservation a RESERVED coupon held, once a change in this call has closed it. */
function closedReservationOf(coupon: Coupon): ClosedReservation {
  return {
    orderId: coupon.orderId ?? '',
    reservedAt: coupon.reservedAt ?? new Date(0),
    orderAmount: coupon.orderAmount,
    discountAmount: coupon.discountAmount ?? 0,
  };
}

/** What the customer pays for the order: its amount less the discounts of its USED coupons. */
function payableOf(order: Order, coupons: readonly LockedCoupon[]): number {
  const used = coupons
    .filter((l) => l.coupon.status === 'USED' && l.coupon.orderId === order.orderId)
    .map((l) => ({ discountAmount: l.coupon.discountAmount ?? 0 }));
  return payableAmount(order.orderAmount, used);
}

/** A payment event the money rules flagged, for the warn log. */
export interface FlaggedPayment {
  eventId: string;
  orderId: string;
  outcome: 'COUPON_TAKEN' | 'AMOUNT_MISMATCH';
  amount?: number;
  payableAmount?: number;
}

/** Every pending event's decision, in order: the changes to write (by round) and each event's outcome. */
function decideAll(
  pending: PendingPaymentEvent[],
  coupons: LockedCoupon[],
  orders: Order[],
  orderIds: string[],
  now: Date,
) {
  const changed = new Map<string, Coupon>();
  const results = new Map(
    orderIds.map((id): [string, PaymentResult] => [
      id,
      { applied: [], policyIds: [], coupons: changed },
    ]),
  );
  const flagged: FlaggedPayment[] = [];
  const orderOf = new Map(orders.map((order) => [order.orderId, { ...order }]));
  const moneyMoved = new Map<string, OrderPayments>();
  // The order each coupon was locked for: a restore clears `orderId`, later events still apply.
  const ofOrder = new Map<string, LockedCoupon[]>();
  // The coupons of each order's reservations that closed last unpaid (together: one failed card
  // releases all of an order's coupons at once), for a payment completing after.
  type Late = { locked: LockedCoupon; reservation: ClosedReservation };
  const lateOf = new Map<string, Late[]>();
  for (const locked of coupons) {
    if (locked.coupon.status === 'RESERVED' || locked.coupon.status === 'USED') {
      const orderId = locked.coupon.orderId ?? '';
      const mine = ofOrder.get(orderId);
      if (mine) mine.push(locked);
      else ofOrder.set(orderId, [locked]);
    }
    for (const reservation of locked.late ?? []) {
      lateOf.set(reservation.orderId, [
        ...(lateOf.get(reservation.orderId) ?? []),
        { locked, reservation },
      ]);
    }
  }
  // A coupon may change twice in one call (COMPLETED then CANCELLED): its n-th change goes in the
  // n-th round, so each conditional update sees the status the previous one left.
  const rounds: Change[][] = [];
  const changesOf = new Map<string, number>();
  const outcomes: { id: string; outcome: string }[] = [];
  for (const event of pending) {
    let result = results.get(event.orderId);
    if (!result) {
      result = { applied: [], policyIds: [], coupons: changed };
      results.set(event.orderId, result);
    }
    const late = lateOf.get(event.orderId);
    const mine = ofOrder.get(event.orderId) ?? [];
    // Other users' coupons on the order (from before one order had one user) cannot keep the
    // payer's own coupon from being used.
    const payersOwn = mine.filter(
      (l) =>
        l.coupon.userId === event.userId &&
        l.coupon.orderId === event.orderId &&
        (l.coupon.status === 'RESERVED' || l.coupon.status === 'USED'),
    );
    const lateUse =
      late && payersOwn.length === 0 && event.type === 'PAYMENT_COMPLETED' ? late : null;
    const released: Late[] = [];
    const order = orderOf.get(event.orderId);
    const payersOrder = order?.userId === event.userId ? order : undefined;
    const refunded =
      event.type === 'PAYMENT_REFUNDED' && payersOrder
        ? refund(payersOrder, event.amount, payableOf(payersOrder, mine))
        : null;
    const candidates: [LockedCoupon, (locked: LockedCoupon) => PaymentDecision][] = lateUse
      ? lateUse.map(({ locked, reservation }) => [
          locked,
          (l) => completeLatePayment(event, l.coupon, reservation, now),
        ])
      : refunded && !refunded.full
        ? []
        : mine.map((locked) => [locked, (l) => decidePayment(event, l.coupon, l.policy, now)]);
    const touched: string[] = [];
    let outcome =
      refunded && !refunded.full
        ? 'PARTIAL_REFUND'
        : candidates.length === 0
          ? 'NO_COUPON'
          : 'NO_CHANGE';
    for (const [locked, decisionFor] of candidates) {
      const decision = decisionFor(locked);
      if (!decision) continue;
      if (decision.kind === 'skip') {
        if (touched.length === 0) outcome = decision.outcome;
        continue;
      }
      const n = changesOf.get(locked.coupon.id) ?? 0;
      changesOf.set(locked.coupon.id, n + 1);
      rounds[n] ??= [];
      rounds[n].push({
        transition: decision.transition,
        actor: ACTOR,
        reason: `${event.type} ${event.eventId}`,
        ...(lateUse && { reservation: { confirm: true } }),
      });
      const before = locked.coupon;
      locked.coupon = decision.transition.coupon;
      // Released by this call (a failed card): a completion later in the call still finds it.
      if (before.status === 'RESERVED' && locked.coupon.status === 'ISSUED') {
        released.push({ locked, reservation: closedReservationOf(before) });
      }
      touched.push(locked.coupon.id);
      result.policyIds.push(locked.coupon.policyId);
      changed.set(locked.coupon.id, locked.coupon);
      outcome = decision.transition.event;
    }
    if (released.length > 0) lateOf.set(event.orderId, released);
    // A late use puts the coupons on the order: its later events (a cancellation) find them.
    if (lateUse) {
      ofOrder.set(
        event.orderId,
        lateUse.filter(({ locked }) => touched.includes(locked.coupon.id)).map((l) => l.locked),
      );
    }
    if (payersOrder && refunded) {
      payersOrder.refundedAmount = refunded.refundedAmount;
      moneyMoved.set(payersOrder.orderId, payersOrder);
    }
    if (payersOrder && event.type === 'PAYMENT_COMPLETED') {
      // The money was taken whatever the coupon's fate: a later refund is measured against it.
      payersOrder.paidAmount += event.amount;
      moneyMoved.set(payersOrder.orderId, payersOrder);
    }
    if (payersOrder && event.type === 'PAYMENT_COMPLETED' && outcome !== 'COUPON_TAKEN') {
      const payable = payableOf(payersOrder, ofOrder.get(event.orderId) ?? []);
      if (event.amount !== payable) {
        outcome = 'AMOUNT_MISMATCH';
        flagged.push({ ...event, outcome: 'AMOUNT_MISMATCH', payableAmount: payable });
      }
    }
    if (outcome === 'COUPON_TAKEN') flagged.push({ ...event, outcome: 'COUPON_TAKEN' });
    result.applied.push({ eventId: event.eventId, type: event.type, outcome, couponIds: touched });
    outcomes.push({ id: event.eventId, outcome });
  }
  const payments = [...moneyMoved.values()].map(({ orderId, paidAmount, refundedAmount }) => ({
    orderId,
    paidAmount,
    refundedAmount,
  }));
  return { results, rounds, outcomes, flagged, payments };
}

/**
 * Applies every pending payment event of these orders, each order's oldest offset first, in one
 * transaction (a PAYMENT job's chunk of up to 2,000 events commits together).
 *
 * Whichever worker gets an order's job first applies all events recorded so far; the bridge records
 * an event before it reads the next one of the same partition, so when event N's job runs, events
 * before N are already recorded and are applied first. Jobs arriving later find nothing pending.
 * So the order holds with any number of worker processes, and an event is applied exactly once.
 */
export async function applyPaymentEvents(
  ports: { coupons: CouponStore },
  orderIds: string[],
  now: Date,
  options: PaymentOptions = {},
): Promise<Map<string, PaymentResult>> {
  const { results, flagged } = await ports.coupons.transaction(async (tx) => {
    const pending = await tx.lockPendingPayments(orderIds);
    const paying = [...new Set(pending.map((e) => e.orderId))];
    // Orders before their coupons, as a reserve takes them.
    const orders = paying.length === 0 ? [] : await tx.lockOrders(paying);
    const coupons = paying.length === 0 ? [] : await tx.lockOrderCoupons(paying);
    const { results, rounds, outcomes, flagged, payments } = decideAll(
      pending,
      coupons,
      orders,
      orderIds,
      now,
    );
    for (const round of rounds) await tx.saveChanges(round, now);
    await tx.saveOrderPayments(payments);
    await tx.markPaymentsApplied(outcomes, orderIds, now);
    return { results, flagged };
  });
  reportFlagged(options, flagged);
  return results;
}

export interface PaymentOptions {
  /** Told (warn) of each late payment whose coupon another order took meanwhile. */
  logger?: Warn;
}

const FLAG_MESSAGES: Record<FlaggedPayment['outcome'], string> = {
  COUPON_TAKEN:
    'late payment: the closed reservation’s coupon was taken by another order meanwhile; to reconcile',
  AMOUNT_MISMATCH: 'payment amount differs from the order’s payable amount; to reconcile',
};

/**
 * Payments to reconcile: a late payment that found its coupon taken (the order got a discount no
 * coupon backs now), or a paid amount other than the order's payable amount.
 */
function reportFlagged({ logger }: PaymentOptions, flagged: FlaggedPayment[]): void {
  for (const { eventId, orderId, outcome, amount, payableAmount } of flagged) {
    logger?.warn({ eventId, orderId, outcome, amount, payableAmount }, FLAG_MESSAGES[outcome]);
  }
}

/** One event of a completed PAYMENT job, as `GET /v1/jobs/:jobId` shows it. */
export interface PaymentView<C> {
  eventId: string;
  orderId: string;
  outcome: string;
  /** The coupon this event changed, as it stands after the job; null when it changed none. */
  coupon: C | null;
}

/**
 * What each event of a job did. An event applied by this job's transaction names its outcome and
 * coupon; one applied before (by another job of its order, or by an earlier attempt of this one
 * whose acknowledgement was lost) keeps the outcome recorded then, without a coupon.
 */
export async function paymentViews<C>(
  ports: { coupons: CouponStore },
  events: PendingPayment[],
  results: PaymentResult[],
  view: (coupon: Coupon) => C,
): Promise<PaymentView<C>[]> {
  const applied = new Map(
    results.flatMap(({ applied }) => applied.map((event) => [event.eventId, event] as const)),
  );
  const earlier = events.filter(({ eventId }) => !applied.has(eventId)).map((e) => e.eventId);
  const recorded =
    earlier.length > 0 ? await ports.coupons.paymentOutcomes(earlier) : new Map<string, string>();
  // As the transactions left them. The results of one transaction share one map: each map once.
  const coupons = new Map<string, Coupon>();
  for (const changed of new Set(results.map((result) => result.coupons))) {
    for (const [id, coupon] of changed) coupons.set(id, coupon);
  }
  return events.map(({ eventId, orderId }) => {
    const mine = applied.get(eventId);
    const outcome = mine?.outcome ?? recorded.get(eventId);
    // The job is enqueued after its events are committed, and applying takes every pending event
    // of their orders: an event still pending here is a fault, and the job is retried.
    if (!outcome) throw new Error(`payment event ${eventId} is still pending after its job`);
    const couponId = mine?.couponIds.at(-1);
    const coupon = couponId ? coupons.get(couponId) : undefined;
    return { eventId, orderId, outcome, coupon: coupon ? view(coupon) : null };
  });
}

/**
 * Applies the pending payment events of a PAYMENT job's orders in one transaction
 * ({@link applyPaymentEvents}). When the group fails because of one order's data, its
 * halves run apart (`isolateFailures`) until that order fails alone and the others commit, as
 * issuance does; an outage fails the group. Afterwards the statistics of the policies whose
 * coupons changed are outdated (best effort). One settled result per order, in order.
 */
export async function processPayments(
  ports: {
    coupons: CouponStore;
    clock: Clock;
    statistics: Pick<Statistics, 'changed'>;
    failures: FailureKinds;
    log: Warn;
  },
  orderIds: string[],
): Promise<Settled<PaymentResult>[]> {
  const now = ports.clock.now();
  const settled = await isolateFailures(orderIds, {
    run: async (part) => {
      const results = await applyPaymentEvents(ports, part, now, { logger: ports.log });
      return part.map((id) => results.get(id) as PaymentResult);
    },
    itemCaused: ports.failures.isItemCaused,
  });
  settled.forEach((result, i) => {
    if (!result.ok) {
      ports.log.warn(
        { orderId: orderIds[i], cause: ports.failures.describe(result.error) },
        'payment order failed alone; its group committed without it',
      );
    }
  });
  await afterCommit(ports.log, 'statistics', () =>
    ports.statistics.changed(settled.flatMap((r) => (r.ok ? r.value.policyIds : []))),
  );
  return settled;
}
