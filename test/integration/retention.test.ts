import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneOldRecords } from '../../src/app/prune-old-records.js';
import { FenceRefused, fence } from '../../src/infra/db/fence.js';
import { inTransaction } from '../../src/infra/db/sql.js';
import { databasePorts } from '../../src/wiring/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';

const DAY_MS = 86_400_000;

describe('retention', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  const exec = (sql: string, params: unknown[] = []) =>
    db.orm.em.getConnection().execute(sql, params);
  const count = async (sql: string) => ((await exec(sql)) as { n: number }[])[0]?.n;
  const ago = (days: number) => new Date(Date.now() - days * DAY_MS);

  async function outboxRow(publishedDaysAgo: number | null, tag: string) {
    await exec(
      `insert into outbox (event_id, event_type, message_key, payload, created_at, published_at)
       values (?, 'COUPON_ISSUED', ?, '{}'::jsonb, ?, ?)`,
      [randomUUID(), tag, ago(40), publishedDaysAgo === null ? null : ago(publishedDaysAgo)],
    );
  }
  async function paymentEvent(appliedDaysAgo: number | null, tag: string) {
    await exec(
      `insert into payment_events (event_id, order_id, event_type, user_id, amount, occurred_at,
                                   topic, kafka_partition, kafka_offset, received_at, applied_at)
       values (?, ?, 'PAYMENT_COMPLETED', 'u', 1, ?, 't', 0, 0, ?, ?)`,
      [randomUUID(), tag, ago(60), ago(60), appliedDaysAgo === null ? null : ago(appliedDaysAgo)],
    );
  }

  it('prunes old published outbox rows and old applied payment events, in batches, and keeps the rest', async () => {
    for (let i = 0; i < 25; i += 1) await outboxRow(8, 'old-published');
    await outboxRow(6, 'recent-published');
    await outboxRow(null, 'unpublished');
    for (let i = 0; i < 12; i += 1) await paymentEvent(31, 'old-applied');
    await paymentEvent(29, 'recent-applied');
    await paymentEvent(null, 'pending');
    await exec(
      `insert into audit_log (id, actor, action, target, at) values (?, 'ops', 'policy.create', 'policy:x', ?)`,
      [randomUUID(), ago(400)],
    );

    const result = await pruneOldRecords(databasePorts(db.orm), {
      now: new Date(),
      outboxDays: 7,
      paymentEventDays: 30,
      batchSize: 10,
    });
    expect(result).toEqual({ outbox: 25, paymentEvents: 12, codeExports: 0 });
    expect(await exec('select message_key as k from outbox order by message_key')).toEqual([
      { k: 'recent-published' },
      { k: 'unpublished' },
    ]);
    expect(await exec('select order_id as k from payment_events order by order_id')).toEqual([
      { k: 'pending' },
      { k: 'recent-applied' },
    ]);
    expect(await count('select count(*)::int as n from audit_log')).toBe(1);
  });

  it('never waits for a row a live path holds: it skips it', async () => {
    await outboxRow(9, 'held');
    await outboxRow(9, 'free');
    const knex = db.orm.em.getConnection().getKnex();
    const trx = await knex.transaction();
    try {
      await trx.raw(`select id from outbox where message_key = 'held' for update`);
      const started = Date.now();
      const result = await pruneOldRecords(databasePorts(db.orm), {
        now: new Date(),
        outboxDays: 7,
        paymentEventDays: 30,
      });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(result.outbox).toBe(1);
    } finally {
      await trx.rollback();
    }
    expect(await count(`select count(*)::int as n from outbox where message_key = 'held'`)).toBe(1);
    expect(await count(`select count(*)::int as n from outbox where message_key = 'free'`)).toBe(0);
  });

  it('under a lock whose token is stale, deletes nothing: its first delete is rolled back', async () => {
    await outboxRow(9, 'fenced');
    await inTransaction(db.orm.em.fork(), (tx) => fence(tx, 'retention', 3));
    const options = { now: new Date(), outboxDays: 7, paymentEventDays: 30 };
    await expect(
      pruneOldRecords(databasePorts(db.orm), {
        ...options,
        fence: { resource: 'retention', token: 2 },
      }),
    ).rejects.toBeInstanceOf(FenceRefused);
    expect(await count(`select count(*)::int as n from outbox where message_key = 'fenced'`)).toBe(
      1,
    );
    await pruneOldRecords(databasePorts(db.orm), {
      ...options,
      fence: { resource: 'retention', token: 3 },
    });
    expect(await count(`select count(*)::int as n from outbox where message_key = 'fenced'`)).toBe(
      0,
    );
  });
});
