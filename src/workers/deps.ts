import type { Logger } from 'pino';
import type { Env } from '../infra/config/env.js';
import type { Orm } from '../infra/db/orm.js';
import type { RedisClient as Redis } from '../infra/redis/connection.js';
import type { StatsCache } from '../infra/redis/stats-cache.js';

/** What every worker of this process is given by the composition root. */
export interface WorkerDeps {
  env: Env;
  logger: Logger;
  orm: Orm;
  /** Told after every commit that changes a policy's coupons. */
  stats: StatsCache;
  /** The process's shared, fail-fast client (counters). */
  redis: Redis;
}
