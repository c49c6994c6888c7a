import type { EntityManager } from '@mikro-orm/postgresql';
import { newId } from '../ids.js';
import { json, query } from './sql.js';

/**
 * Draws `count` new codes and stores their keyed hashes for the policy, in the caller's
 * transaction; returns the codes' plaintext, which is stored nowhere here. A hash already taken (by
 * any code of any policy: astronomically rare) draws again.
 */
export async function insertNewCodes(
  tx: EntityManager,
  policyId: string,
  count: number,
  { draw, hash }: { draw: () => string; hash: (code: string) => string },
): Promise<string[]> {
  const made: string[] = [];
  while (made.length < count) {
    const byHash = new Map(
      Array.from({ length: count - made.length }, () => {
        const code = draw();
        return [hash(code), code] as const;
      }),
    );
    const inserted = await query<{ hash: string }>(
      tx,
      `insert into coupon_codes (id, policy_id, code_hash)
       select x.id, ?, decode(x.hash, 'hex')
         from jsonb_to_recordset(?::jsonb) as x(id uuid, hash text)
       on conflict (code_hash) do nothing
       returning encode(code_hash, 'hex') as hash`,
      [policyId, json([...byHash.keys()].map((h) => ({ id: newId(), hash: h })))],
    );
    for (const row of inserted) made.push(byHash.get(row.hash) as string);
  }
  return made;
}
