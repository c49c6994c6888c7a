import type { Coupon, CouponReservation, CouponStatus } from '../domain/index.js';
import type { CouponReader, HistoryEntry, Page } from './ports.js';
import { actsFor, type Principal } from './principal.js';
import { accepted, notFound, notYours, type Result } from './refusal.js';

/** Where a page starts, read only once the caller may see the list (a refusal comes first). */
export type PagePosition = () => string | undefined;

/** The coupon when the caller owns it (or is an admin): unknown first, then someone else's. */
export async function ownedCoupon(
  ports: { couponReader: CouponReader },
  principal: Principal,
  couponId: string,
): Promise<Result<Coupon>> {
  const coupon = await ports.couponReader.find(couponId);
  if (!coupon) return notFound('coupon');
  if (!actsFor(principal, coupon.userId)) return notYours();
  return accepted(coupon);
}

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
): Promise<Result<Page<Coupon>>> {
  const userId = principal.role === 'admin' ? query.userId : (query.userId ?? principal.sub);
  if (userId !== undefined && !actsFor(principal, userId)) return notYours();
  const cursor = query.cursor();
  return accepted(
    await ports.couponReader.list({
      userId,
      status: query.status,
      limit: query.limit,
      ...(cursor !== undefined && { cursor }),
    }),
  );
}

/** What `read` finds about an owned coupon; refused as {@link ownedCoupon} refuses. */
async function aboutOwnedCoupon<T>(
  ports: { couponReader: CouponReader },
  principal: Principal,
  couponId: string,
  read: (coupon: Coupon) => Promise<T>,
): Promise<Result<T>> {
  const owned = await ownedCoupon(ports, principal, couponId);
  return owned.ok ? accepted(await read(owned.value)) : owned;
}

/** Every status change of an owned coupon, oldest first, in pages. */
export function couponHistory(
  ports: { couponReader: CouponReader },
  principal: Principal,
  couponId: string,
  page: { limit: number; after: PagePosition },
): Promise<Result<Page<HistoryEntry>>> {
  return aboutOwnedCoupon(ports, principal, couponId, (coupon) => {
    const after = page.after();
    return ports.couponReader.history(coupon.id, {
      limit: page.limit,
      ...(after !== undefined && { after }),
    });
  });
}

/** The reservations of an owned coupon, oldest first, in pages. */
export function couponReservations(
  ports: { couponReader: CouponReader },
  principal: Principal,
  couponId: string,
  page: { limit: number; after: PagePosition },
): Promise<Result<Page<CouponReservation>>> {
  return aboutOwnedCoupon(ports, principal, couponId, (coupon) => {
    const after = page.after();
    return ports.couponReader.reservations(coupon.id, {
      limit: page.limit,
      ...(after !== undefined && { after }),
    });
  });
}
