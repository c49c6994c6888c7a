import type { Coupon, CouponReservation, CouponStatus } from '../domain/index.js';
import type { CouponReader, HistoryEntry, Page } from './ports.js';
import { actsFor, type Principal } from './principal.js';

/** Why a caller may not see a coupon: unknown (404) or someone else's (403), in that order. */
export type Refusal = { ok: false; reason: 'NOT_FOUND' | 'FORBIDDEN' };
export type Read<T> = { ok: true; value: T } | Refusal;

/** The coupon when the caller owns it (or is an admin). */
export async function ownedCoupon(
  ports: { couponReader: CouponReader },
  principal: Principal,
  couponId: string,
): Promise<Read<Coupon>> {
  const coupon = await ports.couponReader.find(couponId);
  if (!coupon) return { ok: false, reason: 'NOT_FOUND' };
  if (!actsFor(principal, coupon.userId)) return { ok: false, reason: 'FORBIDDEN' };
  return { ok: true, value: coupon };
}

/** Where a page starts, read only once the caller may see the list (a refusal comes first). */
export type PagePosition = () => string | undefined;

/** The caller's coupons (an admin: any user's, or all), newest first. */
export async function listCoupons(
  ports: { couponReader: CouponReader },
  principal: Principal,
  query: {
    userId?: string | undefined;
    status?: CouponStatus | undefined;
    limit: number;
    cursor: PagePosition;
  },
): Promise<Read<Page<Coupon>>> {
  const userId = principal.role === 'admin' ? query.userId : (query.userId ?? principal.sub);
  if (userId !== undefined && !actsFor(principal, userId)) {
    return { ok: false, reason: 'FORBIDDEN' };
  }
  const cursor = query.cursor();
  return {
    ok: true,
    value: await ports.couponReader.list({
      userId,
      status: query.status,
      limit: query.limit,
      ...(cursor !== undefined && { cursor }),
    }),
  };
}

/** Every status change of an owned coupon, oldest first, in pages. */
export async function couponHistory(
  ports: { couponReader: CouponReader },
  principal: Principal,
  couponId: string,
  page: { limit: number; after: PagePosition },
): Promise<Read<Page<HistoryEntry>>> {
  const owned = await ownedCoupon(ports, principal, couponId);
  if (!owned.ok) return owned;
  const after = page.after();
  return {
    ok: true,
    value: await ports.couponReader.history(owned.value.id, {
      limit: page.limit,
      ...(after !== undefined && { after }),
    }),
  };
}

/** Every reservation of an owned coupon, oldest first. */
export async function couponReservations(
  ports: { couponReader: CouponReader },
  principal: Principal,
  couponId: string,
): Promise<Read<CouponReservation[]>> {
  const owned = await ownedCoupon(ports, principal, couponId);
  if (!owned.ok) return owned;
  return { ok: true, value: await ports.couponReader.reservations(owned.value.id) };
}
