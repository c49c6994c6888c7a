import type { EntityManager } from '@mikro-orm/postgresql';
import type { PolicyStore, PolicyTx } from '../../app/ports.js';
import { writeAudit } from './audit.js';
import { insertNewCodes } from './code-hashes.js';
import { PolicyEntity } from './entities.js';
import { POLICY_COLUMNS, toPolicy } from './row-to-domain.js';
import { inTransaction, query } from './sql.js';

/** Policies in PostgreSQL, through MikroORM's entity (`coupon_policies`) and raw statements. */
export function policyStore(
  fork: () => EntityManager,
  /** Makes a code and its keyed hash; without it, the store makes no codes. */
  codes: { newCode(): string; hash(code: string): string } | undefined,
): PolicyStore {
  return {
    transaction: (work) => inTransaction(fork(), (tx) => work(policyTx(tx, codes))),
    find: (id) => fork().findOne(PolicyEntity, { id }),
    /** Newest first; ids are UUIDv7, so id order is creation order. */
    async list({ limit, cursor }) {
      const rows = await fork().find(PolicyEntity, cursor ? { id: { $lt: cursor } } : {}, {
        orderBy: { id: 'desc' },
        limit: limit + 1,
      });
      const items = rows.slice(0, limit);
      return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
    },
  };
}

function policyTx(
  tx: EntityManager,
  codes: { newCode(): string; hash(code: string): string } | undefined,
): PolicyTx {
  return {
    async insert(policy, publicCodeHash) {
      if (publicCodeHash !== null) {
        // Serializes creations of one public code, so a clash is an answer and never a unique
        // violation (which would abort the transaction).
        await query(tx, "select pg_advisory_xact_lock(hashtextextended('public_code:' || ?, 0))", [
          publicCodeHash,
        ]);
        const [taken] = await query(
          tx,
          "select 1 from coupon_policies where public_code_hash = decode(?, 'hex')",
          [publicCodeHash],
        );
        if (taken) return false;
      }
      tx.persist(tx.create(PolicyEntity, { ...policy, updatedAt: policy.createdAt }));
      await tx.flush();
      if (publicCodeHash !== null) {
        await query(
          tx,
          "update coupon_policies set public_code_hash = decode(?, 'hex') where id = ?",
          [publicCodeHash, policy.id],
        );
      }
      return true;
    },
    async lock(id) {
      const [row] = await query<Record<string, unknown>>(
        tx,
        `select ${POLICY_COLUMNS} from coupon_policies p where p.id = ? for update`,
        [id],
      );
      return row ? toPolicy(row as never) : null;
    },
    async setStatus(id, status, now) {
      await query(tx, 'update coupon_policies set status = ?, updated_at = ? where id = ?', [
        status,
        now,
        id,
      ]);
    },
    async addCodes(policyId, count) {
      if (!codes) throw new Error('making codes needs CODE_HASH_SECRET');
      const made = await insertNewCodes(tx, policyId, count, {
        draw: () => codes.newCode(),
        hash: (code) => codes.hash(code),
      });
      await query(
        tx,
        'update coupon_policies set codes_generated = codes_generated + ? where id = ?',
        [count, policyId],
      );
      return made;
    },
    async addBatch(batch) {
      await query(
        tx,
        `insert into code_batches (id, policy_id, count, prefix, length, actor)
         values (?, ?, ?, ?, ?, ?)`,
        [batch.id, batch.policyId, batch.count, batch.prefix, batch.length, batch.actor],
      );
      await query(
        tx,
        'update coupon_policies set codes_generated = codes_generated + ? where id = ?',
        [batch.count, batch.policyId],
      );
    },
    audit: (entry) => writeAudit(tx, entry),
  };
}
