import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fence } from '../../src/app/ports.js';
import { FenceRefused, fence, inFencedTransaction } from '../../src/infra/db/fence.js';
import { inTransaction, query } from '../../src/infra/db/sql.js';
import { RedisDistributedLock } from '../../src/infra/redis/redis-lock.js';
import { fencedSweepLock } from '../../src/infra/sweep-lock.js';
import { capturedLogger } from '../support/logger.js';
import {
  createTestDatabase,
  services,
  type TestDatabase,
  uniqueName,
} from '../support/services.js';

const until = async (what: string, done: () => Promise<boolean> | boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

/** A transaction that writes nothing but the fence. */
const noWrite = async () => undefined;

describe('RedisDistributedLock', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(services().redisUrl);
  });
  afterAll(() => redis.quit());

  const newLock = (leaseMs: number) =>
    new RedisDistributedLock(redis, {
      prefix: uniqueName('lock'),
      leaseMs,
      logger: capturedLogger().logger,
    });

  it('gives one holder at a time, with a larger token each time, and fails fast while held', async () => {
    const lock = newLock(10_000);
    const first = await lock.acquire('expiry');
    expect(first).not.toBeNull();
    expect(await lock.acquire('expiry')).toBeNull();
    // Another resource is another key.
    expect(await lock.acquire('retention')).not.toBeNull();
    expect(await redis.get(lock.key('expiry'))).toBe(String(first?.token));
    expect(await first?.release()).toBe(true);
    expect(await redis.exists(lock.key('expiry'))).toBe(0);
    const second = await lock.acquire('expiry');
    expect(second?.token).toBeGreaterThan(first?.token ?? Number.POSITIVE_INFINITY);
  });

  it('renews and releases only by its own token', async () => {
    const lock = newLock(300);
    const stale = await lock.acquire('expiry');
    expect(await stale?.renew()).toBe(true);
    expect(await redis.pttl(lock.key('expiry'))).toBeGreaterThan(200);
    await until('the lease to run out', async () => (await redis.exists(lock.key('expiry'))) === 0);
    const current = await lock.acquire('expiry');
    expect(current).not.toBeNull();
    // The first holder's lease has passed: it can neither extend nor delete the new holder's.
    expect(await stale?.renew()).toBe(false);
    expect(await stale?.release()).toBe(false);
    expect(await redis.get(lock.key('expiry'))).toBe(String(current?.token));
    expect(await current?.renew()).toBe(true);
    expect(await current?.release()).toBe(true);
  });

  it('keeps the lease while the holder works past it, and releases it at the end', async () => {
    const lock = newLock(200);
    const other = newLock(200);
    let triedDuring = false;
    const held = await lock.hold('expiry', async () => {
      const started = Date.now();
      // Work three leases long: without renewal the key would be gone after the first.
      await until('three leases to pass', () => Date.now() - started > 600);
      triedDuring = (await redis.exists(lock.key('expiry'))) === 1;
      expect(await lock.acquire('expiry')).toBeNull();
      return 'done';
    });
    expect(held).toEqual({ value: 'done' });
    expect(triedDuring).toBe(true);
    expect(await redis.exists(lock.key('expiry'))).toBe(0);
    expect(await other.acquire('expiry')).not.toBeNull();
  });
});

describe('the lock fence in PostgreSQL', () => {
  let db: TestDatabase;
  let redis: Redis;
  beforeAll(async () => {
    db = await createTestDatabase();
    redis = new Redis(services().redisUrl);
  });
  afterAll(async () => {
    await redis.quit();
    await db.drop();
  });

  const marks = async () =>
    (
      await query<{ name: string }>(
        db.orm.em.fork(),
        "select message_key as name from outbox where event_type = 'FENCE_TEST' order by id",
      )
    ).map((row) => row.name);
  const fencedWrite = (resource: string, token: number, name: string) =>
    inTransaction(db.orm.em.fork(), async (tx) => {
      await query(
        tx,
        `insert into outbox (event_id, event_type, message_key, payload)
         values (gen_random_uuid(), 'FENCE_TEST', ?, '{}'::jsonb)`,
        [name],
      );
      await fence(tx, resource, token);
    });

  it('lets the newest token write, again and again, and rolls back a write with an older one', async () => {
    await fencedWrite('expiry', 5, 'token 5');
    await fencedWrite('expiry', 5, 'token 5 again');
    await fencedWrite('expiry', 7, 'token 7');
    const refused = await fencedWrite('expiry', 5, 'token 5 late').catch((error) => error);
    expect(refused).toBeInstanceOf(FenceRefused);
    expect(refused).toMatchObject({ resource: 'expiry', token: 5, newest: 7 });
    // Resources are fenced apart.
    await fencedWrite('retention', 1, 'retention 1');
    expect(await marks()).toEqual(['token 5', 'token 5 again', 'token 7', 'retention 1']);
    expect(
      await query(db.orm.em.fork(), 'select resource, token::int from lock_fences order by 1'),
    ).toEqual([
      { resource: 'expiry', token: 7 },
      { resource: 'retention', token: 1 },
    ]);
  });

  it('refuses the writes of a holder whose lease passed to another, and the sweep says so', async () => {
    const { logger, lines } = capturedLogger('info');
    const lock = new RedisDistributedLock(redis, {
      prefix: uniqueName('lock'),
      leaseMs: 200,
      logger,
    });
    const stale = await lock.acquire('sweep');
    await until('the lease to run out', async () => (await redis.exists(lock.key('sweep'))) === 0);
    const result = await fencedSweepLock(lock, logger).run('sweep', async (fenced) => {
      await inFencedTransaction(db.orm.em.fork(), fenced, noWrite);
      return 'swept';
    });
    expect(result).toEqual({ ran: true, value: 'swept' });
    const late = inFencedTransaction(
      db.orm.em.fork(),
      { resource: 'sweep', token: stale?.token ?? 0 },
      noWrite,
    );
    await expect(late).rejects.toBeInstanceOf(FenceRefused);

    // Held by another: the sweep skips without running.
    const holder = await lock.acquire('sweep');
    let ran = false;
    expect(
      await fencedSweepLock(lock, logger).run('sweep', async () => {
        ran = true;
      }),
    ).toEqual({ ran: false, why: 'skipped' });
    expect(ran).toBe(false);
    expect(lines.map((line) => line.msg)).toContain(
      'sweep skipped: another scheduler holds its lock',
    );
    await holder?.release();

    // A sweep whose write is refused stops there and logs the refusal.
    const stopped = await fencedSweepLock(lock, logger).run('sweep', async () => {
      await inFencedTransaction(
        db.orm.em.fork(),
        { resource: 'sweep', token: stale?.token ?? 0 },
        noWrite,
      );
      return 'not reached';
    });
    expect(stopped).toEqual({ ran: false, why: 'fenced' });
    expect(
      lines.find((line) => String(line.msg).includes('refused by the lock fence')),
    ).toMatchObject({ resource: 'sweep', fencingToken: stale?.token });
  });

  it('recovers from a token counter Redis lost: one run is refused, the next writes', async () => {
    const { logger } = capturedLogger('info');
    const lock = new RedisDistributedLock(redis, {
      prefix: uniqueName('lock'),
      leaseMs: 5000,
      logger,
    });
    const swept = { ran: true, value: 'swept' };
    const sweep = (fenced: Fence) =>
      inFencedTransaction(db.orm.em.fork(), fenced, noWrite).then(() => 'swept');
    expect(await fencedSweepLock(lock, logger).run('lost', sweep)).toEqual(swept);
    await inTransaction(db.orm.em.fork(), (tx) => fence(tx, 'lost', 1000));
    // As after a flush: the counter starts again at 1, below the fence.
    await redis.del(`${lock.key('lost')}:token`);
    expect(await fencedSweepLock(lock, logger).run('lost', sweep)).toEqual({
      ran: false,
      why: 'fenced',
    });
    expect(await fencedSweepLock(lock, logger).run('lost', sweep)).toEqual(swept);
    expect(Number(await redis.get(`${lock.key('lost')}:token`))).toBe(1001);
  });
});
