import type { EntityManager } from '@mikro-orm/postgresql';
import type { CodeBatch, CodeBatchStore } from '../../app/ports.js';
import type { CodeCipher } from '../codes.js';
import { insertNewCodes } from './code-hashes.js';
import { inTransaction, json, query } from './sql.js';

/** How the store makes a batch's codes: a new code, its keyed hash, its encryption. */
export interface BatchCodeMaker {
  newCode(prefix: string, length: number): string;
  hash(code: string): string;
  cipher: CodeCipher;
}

interface BatchRow {
  id: string;
  policy_id: string;
  count: number;
  prefix: string;
  length: number;
  done: number;
  actor: string;
  completed_at: Date | null;
  export_expires_at: Date | null;
}

const toBatch = (row: BatchRow): CodeBatch => ({
  id: row.id,
  policyId: row.policy_id,
  count: row.count,
  prefix: row.prefix,
  length: row.length,
  done: row.done,
  actor: row.actor,
  completedAt: row.completed_at ? new Date(row.completed_at) : null,
  exportExpiresAt: row.export_expires_at ? new Date(row.export_expires_at) : null,
});

/**
 * Code batches in PostgreSQL (`code_batches`, `code_batch_codes`). A chunk locks its batch row, so
 * two runs of one batch's job (a stalled one and its retry) make its chunks one after the other.
 */
export function codeBatchStore(
  fork: () => EntityManager,
  maker: BatchCodeMaker | undefined,
): CodeBatchStore {
  return {
    async find(batchId) {
      const [row] = await query<BatchRow>(fork(), 'select * from code_batches where id = ?', [
        batchId,
      ]);
      return row ? toBatch(row) : null;
    },
    addChunk(batchId, size) {
      if (!maker) throw new Error('making codes needs CODE_HASH_SECRET and CODE_ENCRYPTION_KEY');
      return inTransaction(fork(), async (tx) => {
        const [row] = await query<BatchRow>(
          tx,
          'select * from code_batches where id = ? for update',
          [batchId],
        );
        if (!row) throw new Error(`code batch ${batchId} is gone`);
        const n = Math.min(size, row.count - row.done);
        if (n <= 0) return { done: row.done, total: row.count };
        const made = await insertHashes(tx, maker, row, n);
        await query(
          tx,
          `insert into code_batch_codes (batch_id, seq, iv, sealed)
           select ?, x.seq, decode(x.iv, 'hex'), decode(x.sealed, 'hex')
             from jsonb_to_recordset(?::jsonb) as x(seq int, iv text, sealed text)`,
          [
            batchId,
            json(
              made.map((code, i) => {
                const { iv, sealed } = maker.cipher.seal(code);
                return {
                  seq: row.done + i + 1,
                  iv: iv.toString('hex'),
                  sealed: sealed.toString('hex'),
                };
              }),
            ),
          ],
        );
        await query(tx, 'update code_batches set done = ? where id = ?', [row.done + n, batchId]);
        return { done: row.done + n, total: row.count };
      });
    },
    async complete(batchId, now, exportExpiresAt) {
      await query(
        fork(),
        `update code_batches set completed_at = ?, export_expires_at = ?
          where id = ? and completed_at is null and done = count`,
        [now, exportExpiresAt, batchId],
      );
    },
    async codes(batchId, after, limit) {
      if (!maker) throw new Error('reading codes needs CODE_ENCRYPTION_KEY');
      const rows = await query<{ seq: number; iv: Buffer; sealed: Buffer }>(
        fork(),
        `select seq, iv, sealed from code_batch_codes
          where batch_id = ? and seq > ? order by seq limit ?`,
        [batchId, after, limit],
      );
      return rows.map((row) => ({ seq: row.seq, code: maker.cipher.open(row.iv, row.sealed) }));
    },
  };
}

/** Inserts `n` new codes' keyed hashes for the batch's policy; returns the codes. */
function insertHashes(
  tx: EntityManager,
  maker: BatchCodeMaker,
  batch: BatchRow,
  n: number,
): Promise<string[]> {
  return insertNewCodes(tx, batch.policy_id, n, {
    draw: () => maker.newCode(batch.prefix, batch.length),
    hash: (code) => maker.hash(code),
  });
}
