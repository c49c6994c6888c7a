import type {
  ClosedReservation,
  Coupon,
  CouponPolicy,
  CouponReservation,
  CouponStatus,
  DiscountTerms,
  Order,
  OrderCoupon,
  PaymentEventType,
  ReservationState,
  Transition,
} from '../../domain/index.js';
import type { Fence, Page } from './basics.js';
import type { AuditEntry } from './policies.js';

/** Coupons: the unit of work that changes them, and the reads of the API. */

/** One status change of a coupon, as its history shows it. */
export interface HistoryEntry {
  from: CouponStatus | null;
  to: CouponStatus;
  actor: string;
  reason: string | null;
  at: string;
}

/** Reads of coupons for the API. */
export interface CouponReader {
  find(id: string): Promise<Coupon | null>;
  /** Newest first, optionally one user's, optionally one status. */
  list(filter: {
    userId?: string | undefined;
    status?: CouponStatus | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<Coupon>>;
  /** Oldest first; `after` is the position of the last change of the previous page. */
  history(couponId: string, page: { limit: number; after?: string }): Promise<Page<HistoryEntry>>;
  /** The coupon's reservations, oldest first; `after` is the id of the last of the previous page. */
  reservations(
    couponId: string,
    page: { limit: number; after?: string },
  ): Promise<Page<CouponReservation>>;
}

/** A coupon row locked for a change, with its policy's terms. */
export interface LockedCoupon {
  coupon: Coupon;
  policy: CouponPolicy & DiscountTerms;
  /**
   * Orders whose reservations that closed last, unpaid, include this coupon's (a payment
   * completing after a time-out, a release or a failed card; one failed card closes all of an
   * order's reservations at once).
   */
  late?: ClosedReservation[];
}

/**
 * What a change does to the coupon's reservation records: `open` a new ACTIVE one (every reserve),
 * `close` the ACTIVE one in a given state, or `confirm` the coupon's reservation for its order that
 * closed last unpaid (TIMED_OUT or RELEASED: a payment completing after it closed).
 */
export type ReservationWrite =
  | { open: CouponReservation }
  | { close: ReservationState }
  | { confirm: true };

/** A status change the domain decided, to be written with its history, event and reservation. */
export interface Change {
  transition: Transition;
  actor: string;
  reason: string | null;
  /**
   * Left out: a change out of RESERVED closes the ACTIVE reservation as the domain's
   * `closingState` says; other changes touch none. A reserve must say `open`.
   */
  reservation?: ReservationWrite;
}

/** A payment event recorded and not yet applied, locked. */
export interface PendingPaymentEvent {
  eventId: string;
  type: PaymentEventType;
  orderId: string;
  userId: string;
  amount: number;
}

/** An order locked for a change of its coupons, with the coupons it holds in the order they joined. */
export interface LockedOrder {
  /** Null when the order has never held a coupon. */
  order: Order | null;
  held: OrderCoupon[];
}

/** What a payment changed of an order's money. */
export interface OrderPayments {
  orderId: string;
  paidAmount: number;
  refundedAmount: number;
}

/** A reservation past its expiry, as the timeout sweep reads it. */
export interface StaleReservation {
  couponId: string;
  orderId: string;
  /** The ACTIVE reservation record; null for a coupon reserved before records were kept. */
  reservationId: string | null;
  reservedAt: Date;
  extensions: number;
}

export interface CouponTx {
  /**
   * The order locked for the rest of the transaction (also while it does not exist yet), with the
   * coupons it holds. Taken before the coupon: every change of an order's coupons locks the order
   * first, so two reserves for one order run one after the other.
   */
  lockOrder(orderId: string): Promise<LockedOrder>;
  /** Records the order's user and amount (a new order, or one that held no coupon restating it). */
  saveOrder(order: Pick<Order, 'orderId' | 'userId' | 'orderAmount'>): Promise<void>;
  /** Existing orders of these ids, locked in id order. */
  lockOrders(orderIds: string[]): Promise<Order[]>;
  saveOrderPayments(orders: OrderPayments[]): Promise<void>;
  /** The policy's spend so far, its row locked for the rest of the transaction. */
  lockBudget(policyId: string): Promise<number>;
  /** The coupon row locked for the rest of the transaction, with its policy's terms. */
  lockCoupon(couponId: string): Promise<LockedCoupon | null>;
  /**
   * Coupons these orders' payment events can act on, locked in id order: those RESERVED or USED
   * for one of the orders, and the coupon of each order's latest TIMED_OUT reservation.
   */
  lockOrderCoupons(orderIds: string[]): Promise<LockedCoupon[]>;
  /** Writes status changes in one statement; throws when a row moved meanwhile. */
  saveChanges(changes: Change[], now: Date): Promise<void>;
  /** The coupon a usage job's committed change left, when the job ran before. */
  actionResult(jobId: string): Promise<Coupon | null>;
  storeActionResult(jobId: string, coupon: Coupon, now: Date): Promise<void>;
  /** Every pending event of these orders, locked, each order's oldest offset first. */
  lockPendingPayments(orderIds: string[]): Promise<PendingPaymentEvent[]>;
  markPaymentsApplied(
    outcomes: { id: string; outcome: string }[],
    orderIds: string[],
    now: Date,
  ): Promise<void>;
  /** ISSUED coupons past `expiresAt`, locked (SKIP LOCKED). */
  lockExpired(now: Date, limit: number): Promise<Coupon[]>;
  /** RESERVED coupons reserved before `staleBefore` whose record is not extended past `now`. */
  lockStaleReservations(staleBefore: Date, now: Date, limit: number): Promise<Coupon[]>;
  /**
   * Of these coupons, those still stale, locked (SKIP LOCKED), each with its ACTIVE reservation id
   * and its policy.
   */
  lockStillStale(
    couponIds: string[],
    staleBefore: Date,
    now: Date,
  ): Promise<{ coupon: Coupon; reservationId: string | null; policy: CouponPolicy | undefined }[]>;
  extendReservations(reservationIds: string[], until: Date): Promise<void>;
  /** Writes an audit record in this transaction: it commits with the change, or not at all. */
  audit(entry: AuditEntry): Promise<void>;
}

export interface CouponStore {
  /** One transaction; with a `fence`, refused (rolled back) when a newer lock holder has written. */
  transaction<T>(work: (tx: CouponTx) => Promise<T>, fence?: Fence): Promise<T>;
  /** Reservations past their expiry after `after` (keyset on reserved_at, coupon id). */
  staleReservations(
    staleBefore: Date,
    now: Date,
    after: [Date, string],
    limit: number,
  ): Promise<StaleReservation[]>;
  /** Orders with events recorded before `before` and still pending, after `after` (keyset). */
  pendingPaymentOrders(before: Date, after: string, limit: number): Promise<string[]>;
  /** The recorded outcome of each of these events that has been applied. */
  paymentOutcomes(eventIds: string[]): Promise<Map<string, string>>;
}
