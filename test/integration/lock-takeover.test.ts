import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceProcess, serviceEnv, startService } from '../support/process.js';
import {
  createTestDatabase,
  services,
  type TestDatabase,
  uniqueName,
} from '../support/services.js';

// Due coupons at the start, and added while both schedulers are stopped; a sweep of DUE takes
// hundreds of transactions of BATCH each.
const [DUE, LATE, BATCH] = [6000, 40, 10];

interface LogLine {
  msg: string;
  time: string;
  resource?: string;
  fencingToken?: number;
  newestToken?: number;
}

const linesOf = (service: ServiceProcess): LogLine[] =>
  service.logs.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the expiry sweep under the lock, with its holder stopped past its lease', () => {
  let db: TestDatabase;
  let redis: Redis;
  const schedulers: ServiceProcess[] = [];
  const prefix = uniqueName('test');
  beforeAll(async () => {
    db = await createTestDatabase();
    redis = new Redis(services().redisUrl);
  });
  afterAll(async () => {
    for (const s of schedulers) s.child.kill('SIGCONT');
    await Promise.all(schedulers.map((s) => s.stop('SIGTERM')));
    await redis.quit();
    await db.drop();
  });

  const sql = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    (await db.orm.em.getConnection().execute(text, params)) as T[];
  const one = async (text: string, params: unknown[] = []) =>
    Number(Object.values((await sql(text, params))[0] ?? {})[0]);
  const issuedDue = () =>
    one("select count(*) from coupons where status = 'ISSUED' and expires_at < now()");

  /** Any session of the schedulers (not this test's) inside a transaction that raised a fence. */
  const fenceRowHeld = () =>
    one(
      `select count(*) from pg_locks l
        where l.relation = 'lock_fences'::regclass and l.pid <> pg_backend_pid()`,
    );

  /**
   * SIGSTOP, at a moment its sessions are not between a fence and a commit: there it would hold
   * the fence row, and the other scheduler's writes would wait for it (safe, but no takeover).
   */
  async function stopOutsideFence(service: ServiceProcess) {
    for (let attempt = 0; attempt < 100; attempt++) {
      service.child.kill('SIGSTOP');
      await until('the stopped process to have no statement running', async () =>
        (await one(
          `select count(*) from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid() and state = 'active'`,
        )) === 0
          ? true
          : undefined,
      );
      if ((await fenceRowHeld()) === 0) return;
      service.child.kill('SIGCONT');
      await until('the fence row to be free', async () =>
        (await fenceRowHeld()) === 0 ? true : undefined,
      );
    }
    throw new Error('could not stop the process outside a fenced commit');
  }

  it('lets the other scheduler take over and finish, refuses the stopped one once resumed, and expires every coupon once', async () => {
    const env = {
      ...serviceEnv({ ...services(), databaseUrl: db.url }),
      QUEUE_PREFIX: prefix,
      ROLES: 'scheduler',
      LOG_LEVEL: 'debug',
      EXPIRY_INTERVAL_MS: '200',
      EXPIRY_BATCH_SIZE: String(BATCH),
      LOCK_LEASE_MS: '1000',
      PAYMENT_PENDING_SWEEP_MS: '3600000',
    };
    schedulers.push(...(await Promise.all([startService(env), startService(env)])));

    const policyId = crypto.randomUUID();
    await sql(
      `insert into coupon_policies (id, name, discount_type, discount_value, issue_type,
                                    total_quantity, per_user_limit, valid_from, valid_until)
       values (?, 'lock', 'FIXED_AMOUNT', 1000, 'DIRECT', 100000, 1, now() - interval '3 hours',
               now() + interval '7 days')`,
      [policyId],
    );
    const insertDue = (from: number, count: number) =>
      sql(
        `insert into coupons (id, policy_id, user_id, user_slot, status, issued_at, expires_at,
                              issue_job_id)
         select gen_random_uuid(), ?, 'user-' || g, 1, 'ISSUED', now() - interval '2 hours',
                now() - interval '1 hour', 'job-' || g
           from generate_series(?::int, ?::int) g`,
        [policyId, from, from + count - 1],
      );
    // Both are running before there is anything to sweep, so either may be the first holder.
    await insertDue(1, DUE);

    // Mid-sweep: a few batches committed, most still due.
    await until('the sweep to be under way', async () =>
      DUE - (await issuedDue()) >= 10 * BATCH ? true : undefined,
    );
    const holderToken = Number(await redis.get(`${prefix}:lock:expiry`));
    const acquiredBy = (token: number) =>
      schedulers.find((s) =>
        linesOf(s).some(
          (l) => l.msg === 'lock acquired' && l.resource === 'expiry' && l.fencingToken === token,
        ),
      );
    const holder = await until('the holder to be known', () => acquiredBy(holderToken));
    const taker = schedulers.find((s) => s !== holder) as ServiceProcess;
    await stopOutsideFence(holder);
    expect(await issuedDue()).toBeGreaterThan(DUE / 2);
    // The holder's run stamps its rows with the time it started: the first rows expired.
    const staleNow = (
      await sql<{ at: string }>(
        "select min(at)::text as at from coupon_history where to_status = 'EXPIRED'",
      )
    )[0]?.at;

    // The lease runs out; the other scheduler's next run takes the lock with a newer token.
    const takerToken = await until('the other scheduler to take the lock', async () => {
      const token = Number(await redis.get(`${prefix}:lock:expiry`));
      return token > holderToken && acquiredBy(token) === taker ? token : undefined;
    });
    // Until then its runs found the lock held and skipped, leaving the rows to the holder.
    expect(
      linesOf(taker).some(
        (l) =>
          l.msg === 'sweep skipped: another scheduler holds its lock' && l.resource === 'expiry',
      ),
    ).toBe(true);
    const takeoverAt = new Date().toISOString();
    await until('the other scheduler to finish the sweep', () =>
      linesOf(taker).some((l) => l.msg === 'expiry sweep' && l.time >= takeoverAt)
        ? true
        : undefined,
    );
    // All done but the stopped holder's batch in flight (its rows locked, SKIP LOCKED by the other).
    expect(await issuedDue()).toBeLessThanOrEqual(BATCH);

    // With the other stopped too, new due coupons wait for whoever writes next: the stopped holder.
    expect(staleNow).toMatch(/^\d{4}-/);
    await stopOutsideFence(taker);
    const lastHistoryId = await one('select coalesce(max(id), 0) from coupon_history');
    await insertDue(DUE + 1, LATE);
    const resumedAt = new Date().toISOString();
    holder.child.kill('SIGCONT');
    const ended = await until('the resumed run to end', () =>
      linesOf(holder).find(
        (l) =>
          l.time >= resumedAt &&
          (l.msg === 'expiry sweep' || l.msg.includes('refused by the lock fence')),
      ),
    );
    expect(ended).toMatchObject({
      msg: 'sweep stopped: its write was refused by the lock fence (a newer holder has written)',
      resource: 'expiry',
      fencingToken: holderToken,
    });
    expect(ended.newestToken).toBeGreaterThanOrEqual(takerToken);
    // Nothing the stale run wrote after the takeover is there (its rows carry its start time).
    expect(
      await one('select count(*) from coupon_history where id > ? and at = ?', [
        lastHistoryId,
        staleNow,
      ]),
    ).toBe(0);

    taker.child.kill('SIGCONT');
    await until('every due coupon to expire', async () =>
      (await issuedDue()) === 0 ? true : undefined,
    );
    const [counts] = await sql<{ coupons: number; once: number; rows: number }>(
      `select count(*)::int as coupons, count(*) filter (where n = 1)::int as once,
              coalesce(sum(n), 0)::int as rows
         from (select coupon_id, count(*) as n from coupon_history
                where to_status = 'EXPIRED' group by coupon_id) per_coupon`,
    );
    expect(counts).toEqual({ coupons: DUE + LATE, once: DUE + LATE, rows: DUE + LATE });
    expect(await one("select count(*) from coupons where status = 'EXPIRED'")).toBe(DUE + LATE);
  }, 120_000);
});
