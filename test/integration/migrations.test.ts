import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../../src/infra/db/orm.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(() => db.drop());

  it('apply on an empty database, then find nothing left to do', async () => {
    const connection = db.orm.em.getConnection();
    const before = await connection.execute<{ n: number }[]>(
      "select count(*)::int as n from information_schema.tables where table_schema = 'public'",
    );
    expect(before[0]?.n).toBe(0);

    expect(await migrate(db.orm)).toEqual(MIGRATIONS.map((m) => m.name));

    const tables = await connection.execute<{ table_name: string }[]>(
      "select table_name from information_schema.tables where table_schema = 'public' order by 1",
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining([
        'coupon_policies',
        'coupons',
        'coupon_codes',
        'coupon_history',
        'outbox',
      ]),
    );
    expect(await migrate(db.orm)).toEqual([]);
  });

  it('makes the quota a constraint of the database, not only of the code', async () => {
    const connection = db.orm.em.getConnection();
    await connection.execute(
      `insert into coupon_policies (id, name, discount_type, discount_value, issue_type, total_quantity,
         valid_from, valid_until)
       values ('00000000-0000-7000-8000-000000000001', 'p', 'FIXED_AMOUNT', 100, 'DIRECT', 1,
         now(), now() + interval '1 day')`,
    );
    await expect(
      connection.execute(
        "update coupon_policies set issued_count = 2 where id = '00000000-0000-7000-8000-000000000001'",
      ),
    ).rejects.toThrow(/coupon_policies_quota/);
  });

  it('lets only CODE policies have a public code, each public code once', async () => {
    const connection = db.orm.em.getConnection();
    const insert = (id: string, issueType: string) =>
      connection.execute(
        `insert into coupon_policies (id, name, discount_type, discount_value, issue_type,
           total_quantity, valid_from, valid_until, public_code, public_code_hash)
         values (?, 'p', 'FIXED_AMOUNT', 100, ?, 1, now(), now() + interval '1 day', 'BF2026',
           '\\x00ff')`,
        [id, issueType],
      );
    await expect(insert('00000000-0000-7000-8000-000000000002', 'DIRECT')).rejects.toThrow(
      /coupon_policies_public_code_code_only/,
    );
    await insert('00000000-0000-7000-8000-000000000003', 'CODE');
    await expect(insert('00000000-0000-7000-8000-000000000004', 'CODE')).rejects.toThrow(
      /coupon_policies_public_code_hash_key/,
    );
  });
});

describe('the orders migration on a database with coupons in use', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(() => db.drop());

  it('backfills the orders, order amounts and budget counters it adds, and goes down again', async () => {
    const { Migrator } = await import('@mikro-orm/migrations');
    Migrator.register(db.orm);
    const migrator = db.orm.getMigrator();
    await migrator.up({ to: 'Migration20261202LockFences' });
    const sql = db.orm.em.getConnection();
    const policy = '00000000-0000-7000-8000-000000000010';
    const coupon = '00000000-0000-7000-8000-000000000011';
    await sql.execute(
      `insert into coupon_policies (id, name, discount_type, discount_value, issue_type, total_quantity,
         valid_from, valid_until)
       values (?, 'p', 'FIXED_AMOUNT', 1500, 'DIRECT', 10, now(), now() + interval '1 day')`,
      [policy],
    );
    await sql.execute(
      `insert into coupons (id, policy_id, user_id, user_slot, status, issued_at, expires_at,
         reserved_at, order_id, discount_amount, issue_job_id)
       values (?, ?, 'u', 1, 'RESERVED', now(), now() + interval '1 day', now(), 'o-old', 1500, 'j')`,
      [coupon, policy],
    );
    await sql.execute(
      `insert into coupon_reservations (id, coupon_id, order_id, user_id, order_amount,
         discount_amount, state, reserved_at, expires_at)
       values (gen_random_uuid(), ?, 'o-old', 'u', 20000, 1500, 'ACTIVE', now(), now() + interval '15 minutes')`,
      [coupon],
    );

    const paid = '00000000-0000-7000-8000-000000000012';
    await sql.execute(
      `insert into coupons (id, policy_id, user_id, user_slot, status, issued_at, expires_at,
         reserved_at, used_at, order_id, discount_amount, issue_job_id)
       values (?, ?, 'u', 2, 'USED', now(), now() + interval '1 day', now(), now(), 'o-paid', 1500, 'j2')`,
      [paid, policy],
    );
    await sql.execute(
      `insert into coupon_reservations (id, coupon_id, order_id, user_id, order_amount,
         discount_amount, state, reserved_at, expires_at, closed_at)
       values (gen_random_uuid(), ?, 'o-paid', 'u', 10000, 1500, 'CONFIRMED', now(), now(), now())`,
      [paid],
    );
    await sql.execute(
      `insert into payment_events (event_id, order_id, event_type, user_id, amount, occurred_at,
         topic, kafka_partition, kafka_offset, applied_at, outcome)
       values (gen_random_uuid(), 'o-paid', 'PAYMENT_COMPLETED', 'u', 8500, now(), 't', 0, 0, now(),
         'COUPON_USED')`,
    );

    await migrator.up();
    expect(
      await sql.execute(
        'select order_id, user_id, order_amount::int, paid_amount::int from orders order by 1',
      ),
    ).toEqual([
      { order_id: 'o-old', user_id: 'u', order_amount: 20000, paid_amount: 0 },
      { order_id: 'o-paid', user_id: 'u', order_amount: 10000, paid_amount: 8500 },
    ]);
    expect(
      await sql.execute(
        `select c.order_amount::int, p.stacking, p.budget, p.budget_spent::int
           from coupons c join coupon_policies p on p.id = c.policy_id order by c.id`,
      ),
    ).toEqual([
      { order_amount: 20000, stacking: 'EXCLUSIVE', budget: null, budget_spent: 3000 },
      { order_amount: 10000, stacking: 'EXCLUSIVE', budget: null, budget_spent: 3000 },
    ]);

    await migrator.down({ to: 'Migration20261202LockFences' });
    const [columns] = await sql.execute<{ n: number }[]>(
      `select count(*)::int as n from information_schema.columns
        where table_name in ('coupons', 'coupon_policies')
          and column_name in ('order_amount', 'stacking', 'budget', 'budget_spent')`,
    );
    expect(columns?.n).toBe(0);
    await migrator.up();
  });
});
