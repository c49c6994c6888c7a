import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditEntry, AuditRecord } from '../../app/ports.js';
import { newId } from '../ids.js';
import { json, query } from './sql.js';

/** Writes `entry` in `em`'s transaction when it has one, so the record commits with the change. */
export async function writeAudit(em: EntityManager, entry: AuditEntry): Promise<void> {
  await query(
    em,
    `insert into audit_log (id, actor, action, target, request_id, at, details)
     values (?, ?, ?, ?, ?, ?, ?::jsonb)`,
    [
      newId(),
      entry.actor,
      entry.action,
      entry.target,
      entry.requestId,
      new Date(),
      json(entry.details ?? {}),
    ],
  );
}

/** Newest first; `cursor` is the id of the last record of the previous page. */
export async function listAudit(
  em: EntityManager,
  { limit, cursor }: { limit: number; cursor?: string },
): Promise<{ items: AuditRecord[]; nextCursor: string | null }> {
  const rows = await query<Omit<AuditRecord, 'at'> & { at: Date | string }>(
    em,
    `select id, actor, action, target, request_id as "requestId", at, details
       from audit_log
      where ?::uuid is null or id < ?::uuid
      order by id desc
      limit ?`,
    [cursor ?? null, cursor ?? null, limit + 1],
  );
  const items = rows.slice(0, limit).map((row) => ({ ...row, at: new Date(row.at).toISOString() }));
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}
