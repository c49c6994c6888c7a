import type { Logger } from 'pino';
import type { SweepLock } from '../app/ports.js';
import { FenceRefused } from './db/fence.js';
import type { RedisDistributedLock } from './redis/redis-lock.js';

/**
 * The sweeps' lock: a {@link RedisDistributedLock} lease per resource, its token carried by every
 * write as the fence PostgreSQL checks (`db/fence.ts`). A run ends `skipped` when another scheduler
 * holds the lock (the job scheduler runs it again next interval), or `fenced` when PostgreSQL
 * refused a write because a newer holder has written since this one's lease ran out (what it
 * committed before stays) or because the token counter in Redis was lost and started again below
 * the fence (raised here, for the next run).
 */
export function fencedSweepLock(lock: RedisDistributedLock, logger: Logger): SweepLock {
  return {
    async run(resource, work) {
      try {
        const held = await lock.hold(resource, (lease) => work({ resource, token: lease.token }));
        if (held === null) {
          logger.info({ resource }, 'sweep skipped: another scheduler holds its lock');
          return { ran: false, why: 'skipped' };
        }
        return { ran: true, value: held.value };
      } catch (error) {
        if (!(error instanceof FenceRefused)) throw error;
        logger.warn(
          { resource, fencingToken: error.token, newestToken: error.newest },
          'sweep stopped: its write was refused by the lock fence (a newer holder has written)',
        );
        // A no-op unless Redis lost the counter; then the next holder's token is past the fence.
        if (Number.isSafeInteger(error.newest)) {
          await lock
            .raiseTokens(resource, error.newest)
            .catch((raise: unknown) =>
              logger.warn({ resource, err: raise }, 'lock counter not raised'),
            );
        }
        return { ran: false, why: 'fenced' };
      }
    },
  };
}
