import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Runs one statement in the EntityManager's transaction (if it has one). Bulk values travel as one
 * JSON parameter (`jsonb_to_recordset(?::jsonb)`), so a batch of any size is one round trip and one
 * plan. Parameters are sent to PostgreSQL as bind values: `em.execute` would first format them into
 * the SQL text, escaping every character of a batch's JSON on the worker's CPU. Errors are converted
 * as MikroORM converts its own (ConnectionException and the like).
 */
export async function query<T>(
  em: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const statement = em
    .getConnection()
    .getKnex()
    .raw(sql, params as never[]);
  const transaction = em.getTransactionContext();
  if (transaction) statement.transacting(transaction);
  try {
    const result = (await statement) as { rows: T[] };
    return result.rows;
  } catch (error) {
    throw em.getDriver().convertException(error as Error);
  }
}

export const json = (value: unknown): string => JSON.stringify(value);

/**
 * A PostgreSQL array literal for `= any(?::text[])`: unlike a JSON list unpacked in SQL, the planner
 * knows its length, so it picks the index even on a table not yet analysed.
 */
export const pgArray = (values: readonly string[]): string =>
  `{${values.map((value) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;

/**
 * Runs `work` in a transaction of its own, with an EntityManager bound to it for {@link query}:
 * BEGIN, COMMIT when `work` resolves, ROLLBACK when it throws. Unlike `em.transactional`, it does
 * not use AsyncLocalStorage, which (once used) makes Node track every promise of the process — a
 * few percent of a worker's CPU, on BullMQ's promises as much as on ours.
 */
export function inTransaction<T>(em: EntityManager, work: (tx: EntityManager) => Promise<T>) {
  return em.getConnection().transactional(async (trx) => {
    const tx = em.fork();
    tx.setTransactionContext(trx);
    return work(tx);
  });
}
