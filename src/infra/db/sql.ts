import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Runs one statement in the EntityManager's transaction. Bulk values travel as one JSON parameter
 * (`jsonb_to_recordset(?::jsonb)`), so a batch of any size is one round trip and one plan.
 */
export function query<T>(em: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  return em.execute<T[]>(sql, params as never[]);
}

export const json = (value: unknown): string => JSON.stringify(value);

/**
 * A PostgreSQL array literal for `= any(?::text[])`: unlike a JSON list unpacked in SQL, the planner
 * knows its length, so it picks the index even on a table not yet analysed.
 */
export const pgArray = (values: readonly string[]): string =>
  `{${values.map((value) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
