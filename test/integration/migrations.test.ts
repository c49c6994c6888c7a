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
});
