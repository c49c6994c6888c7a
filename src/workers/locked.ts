import type { Logger } from 'pino';
import { type Fence, FenceRefused, fenceFor } from '../infra/db/fence.js';
import type { RedisDistributedLock } from '../infra/redis/redis-lock.js';

/**
 * Runs a maintenance sweep under its resource's lock, handing it the {@link Fence} its write
 * transactions run last. Undefined when the sweep did not run to its end: another scheduler holds
 * the lock (the job scheduler runs it again next interval), or PostgreSQL refused a write because a
 * newer holder has written since this one's lease ran out (what it committed before stays), or
 * the token counter in Redis was lost and started again below the fence (raised for the next run).
 */
export async function underLock<T>(
  lock: RedisDistributedLock,
  logger: Logger,
  resource: string,
  sweep: (fence: Fence) => Promise<T>,
): Promise<T | undefined> {
  try {
    const held = await lock.hold(resource, (lease) => sweep(fenceFor(resource, lease.token)));
    if (held === null) logger.info({ resource }, 'sweep skipped: another scheduler holds its lock');
    return held?.value;
  } catch (error) {
    if (!(error instanceof FenceRefused)) throw error;
    logger.warn(
      { resource, fencingToken: error.token, newestToken: error.newest },
      'sweep stopped: its write was refused by the lock fence (a newer holder has written)',
    );
    // A no-op unless Redis lost the counter; then the next holder's token is past the fence again.
    if (Number.isSafeInteger(error.newest)) {
      await lock
        .raiseTokens(resource, error.newest)
        .catch((raise: unknown) =>
          logger.warn({ resource, err: raise }, 'lock counter not raised'),
        );
    }
    return undefined;
  }
}
