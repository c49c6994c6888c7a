import type { EntityManager } from '@mikro-orm/postgresql';
import type { Fence } from '../../app/ports.js';
import { inTransaction, query } from './sql.js';

/**
 * The fence runs last in every write transaction done under a lock, just before it commits:
 * PostgreSQL's word on whether the lock's holder may still write. It throws {@link FenceRefused}
 * (and so rolls the transaction back) when a newer holder has written.
 *
 * Last rather than first because the fence row stays locked until the transaction ends: a holder
 * that stalls inside a transaction (and a stalled holder nearly always is, the sweeps being one
 * transaction after another) would otherwise hold back every write of the holder that took over
 * until it woke. Run last, it holds the row for one round trip; whichever of two holders raises
 * the row first, the older one's transaction cannot commit after the newer one has written.
 */

/** A write under a lock whose fencing token is older than the newest PostgreSQL has seen. */
export class FenceRefused extends Error {
  override name = 'FenceRefused';
  constructor(
    readonly resource: string,
    readonly token: number,
    /** The newest token seen for the resource when this one was refused. */
    readonly newest: number,
  ) {
    super(`write under lock ${resource} refused: token ${token} is older than ${newest}`);
  }
}

/**
 * Raises the resource's fence to `token` (or keeps it there) in `tx`; throws {@link FenceRefused}
 * when the fence is already past it. The row stays locked until `tx` ends, so a newer holder's
 * fence waits for an older one's transaction to end, and refuses the older token from then on.
 */
export async function fence(tx: EntityManager, resource: string, token: number): Promise<void> {
  const [row] = await query<{ raised: boolean; token: string }>(
    tx,
    `with raised as (
       insert into lock_fences as f (resource, token) values (?, ?)
       on conflict (resource) do update set token = excluded.token
        where f.token <= excluded.token
       returning f.token)
     select true as raised, token from raised
     union all
     select false, token from lock_fences where resource = ? and not exists (select 1 from raised)`,
    [resource, token, resource],
  );
  if (!row?.raised) throw new FenceRefused(resource, token, Number(row?.token ?? Number.NaN));
}

/** {@link inTransaction} with the holder's `fence` (when given) raised last, just before the commit. */
export function inFencedTransaction<T>(
  em: EntityManager,
  holder: Fence | undefined,
  work: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  return inTransaction(em, async (tx) => {
    const result = await work(tx);
    if (holder) await fence(tx, holder.resource, holder.token);
    return result;
  });
}
