import type { Logger } from 'pino';
import type { RedisClient } from './connection.js';

// Both act only while the key still holds the caller's token: a holder whose lease ran out and
// passed to another can neither extend nor delete the other's.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1]) else return 0 end`;
const RAISE = `if tonumber(redis.call('get', KEYS[1]) or '0') < tonumber(ARGV[1]) then
  redis.call('set', KEYS[1], ARGV[1]) end
return 0`;

/** One holding of a lock. */
export interface LockLease {
  resource: string;
  /**
   * The fencing token: taken from a counter on acquire, so a later holder of the resource always
   * has a larger one. Writes carry it (see `infra/db/fence.ts`).
   */
  token: number;
  /** Extends the lease by the lock's lease time; false when it is no longer this holder's. */
  renew(): Promise<boolean>;
  /** Deletes the lock if it is still this holder's; false when it was not. */
  release(): Promise<boolean>;
}

export interface RedisLockOptions {
  /** Prefix of the lock keys: `{prefix}:lock:{resource}`, and `…:token` for its counter. */
  prefix: string;
  /** How long a lease lasts without renewal. */
  leaseMs: number;
  logger: Logger;
}

/**
 * A lease lock in Redis, one key per resource. Acquiring fails fast (null) while another holds it;
 * {@link RedisDistributedLock.hold} renews the lease while its work runs. A lease can still run
 * out under a holder that stalls (a long pause, a stopped process): the lock alone never makes a
 * write safe, the fencing token checked by PostgreSQL does.
 */
export class RedisDistributedLock {
  constructor(
    private readonly redis: RedisClient,
    private readonly options: RedisLockOptions,
  ) {}

  key(resource: string): string {
    return `${this.options.prefix}:lock:${resource}`;
  }

  async acquire(resource: string): Promise<LockLease | null> {
    const key = this.key(resource);
    const token = await this.redis.incr(`${key}:token`);
    const set = await this.redis.set(key, String(token), 'PX', this.options.leaseMs, 'NX');
    if (set !== 'OK') return null;
    const { redis } = this;
    const leaseMs = this.options.leaseMs;
    return {
      resource,
      token,
      async renew() {
        return (await redis.eval(RENEW, 1, key, String(token), String(leaseMs))) === 1;
      },
      async release() {
        return (await redis.eval(RELEASE, 1, key, String(token))) === 1;
      },
    };
  }

  /**
   * Raises the resource's token counter to at least `token`: a counter Redis lost starts again
   * below the newest token PostgreSQL has seen, and every holder's writes would be refused.
   */
  async raiseTokens(resource: string, token: number): Promise<void> {
    await this.redis.eval(RAISE, 1, `${this.key(resource)}:token`, String(token));
  }

  /**
   * Runs `work` holding the resource's lock, renewing the lease every third of it, and releases
   * it afterwards; null, without running `work`, when another holds it.
   */
  async hold<T>(
    resource: string,
    work: (lease: LockLease) => Promise<T>,
  ): Promise<{ value: T } | null> {
    const lease = await this.acquire(resource);
    if (!lease) return null;
    const { logger, leaseMs } = this.options;
    const holder = { resource, fencingToken: lease.token };
    logger.debug(holder, 'lock acquired');
    let lost = false;
    const timer = setInterval(
      () => {
        lease.renew().then(
          (renewed) => {
            if (!renewed && !lost) {
              lost = true;
              logger.warn(holder, 'lock lease lost: another holder may run; its writes are fenced');
            }
          },
          (error: unknown) => logger.warn({ ...holder, err: error }, 'lock lease renewal failed'),
        );
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    try {
      return { value: await work(lease) };
    } finally {
      clearInterval(timer);
      await lease
        .release()
        .catch((error: unknown) => logger.warn({ ...holder, err: error }, 'lock release failed'));
    }
  }
}
