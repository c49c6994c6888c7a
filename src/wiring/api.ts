import type { Logger } from 'pino';
import { type AppDeps, createApp } from '../api/app.js';
import { jobQuotas } from '../api/middleware/job-quotas.js';
import { rateLimits } from '../api/middleware/rate-limit.js';
import { mountAdminQueues } from '../api/routes/admin-queues.js';
import { docsRoutes } from '../api/routes/docs.js';
import { mountV1 } from '../api/routes/v1.js';
import type { Env } from '../infra/config/env.js';
import type { Orm } from '../infra/db/orm.js';
import { outboxBacklog } from '../infra/db/outbox.js';
import { createMetrics } from '../infra/metrics.js';
import type { Queues } from '../infra/queue/queues.js';
import type { RedisClient as Redis } from '../infra/redis/connection.js';
import { createPorts } from './ports.js';

/** The whole HTTP surface from the process's shared clients: what `main.ts` and the tests serve. */
export function buildApi(deps: {
  env: Env;
  logger: Logger;
  orm: Orm;
  queues: Queues;
  redis: Redis;
  readiness: AppDeps['readiness'];
  /** The payment bridge's consumer lag, for `/metrics`. */
  consumerLag: () => Promise<number>;
}) {
  const { env, orm, queues, redis } = deps;
  const ports = createPorts(deps);
  const limits = rateLimits({
    redis,
    keyPrefix: env.QUEUE_PREFIX,
    max: env.RATE_LIMIT_MAX,
    windowMs: env.RATE_LIMIT_WINDOW_MS,
    trustedProxies: env.TRUSTED_PROXIES,
  });
  return createApp({
    logger: deps.logger,
    readiness: deps.readiness,
    corsOrigins: env.CORS_ORIGINS,
    limitByIp: limits.byIp,
    metrics: createMetrics({
      redis,
      prefix: env.QUEUE_PREFIX,
      queues: [queues.issuance, queues.usage, queues.maintenance, queues.codes],
      outboxBacklog: () => outboxBacklog(orm.em.fork()),
      consumerLag: deps.consumerLag,
    }),
    mount: (app) => {
      mountV1(app, {
        env,
        ports,
        limitByUser: limits.byUser,
        jobQuotas:
          env.CALLER_DAILY_JOB_LIMIT > 0 || env.COUPON_ACTION_LIMIT > 0
            ? jobQuotas({
                redis,
                keyPrefix: env.QUEUE_PREFIX,
                dailyJobs: env.CALLER_DAILY_JOB_LIMIT,
                couponActionsPerHour: env.COUPON_ACTION_LIMIT,
              })
            : undefined,
        limitFailedAuth: limits.failedAuth,
      });
      app.route('/', docsRoutes());
      mountAdminQueues(app, {
        queues: [queues.issuance, queues.usage, queues.maintenance, queues.codes],
        user: env.ADMIN_USER,
        password: env.ADMIN_PASSWORD,
        readOnly: env.ADMIN_READ_ONLY,
        audit: ports.audit.write,
      });
    },
  });
}
