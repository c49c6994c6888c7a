import type { Context, MiddlewareHandler } from 'hono';
import type { Env } from '../../infra/config/env.js';
import type { Orm } from '../../infra/db/orm.js';
import { addsCorkedPerTurn } from '../../infra/queue/enqueue.js';
import type { Queues } from '../../infra/queue/queues.js';
import { VerdictRecorder } from '../../infra/queue/verdicts.js';
import type { RedisClient as Redis } from '../../infra/redis/connection.js';
import { clearSoldOut, SoldOutGate } from '../../infra/redis/sold-out.js';
import { StatsCache } from '../../infra/redis/stats-cache.js';
import type { AppEnv } from '../context.js';
import { cursorCodec } from '../cursor.js';
import { authenticate } from '../middleware/auth.js';
import { requireJsonBody } from '../middleware/json-body.js';
import { idempotencyKeySchema } from '../schemas/issuance.js';
import type { createRouter } from '../validation.js';
import { auditRoutes } from './audit.js';
import { couponActionRoutes } from './coupon-actions.js';
import { couponRoutes } from './coupons.js';
import { issuanceRoutes } from './issuances.js';
import { jobRoutes } from './jobs.js';
import { policyRoutes } from './policies.js';

export interface V1Deps {
  env: Pick<
    Env,
    'JWT_SECRET' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'CODE_HASH_SECRET' | 'QUEUE_PREFIX'
  >;
  orm: Orm;
  queues: Queues;
  redis: Redis;
  /** The per-user rate limit, run right after authentication. */
  limitByUser?: MiddlewareHandler<AppEnv>;
  /** Counts a request that failed authentication against its address; throws when over. */
  limitFailedAuth?: (c: Context<AppEnv>) => Promise<void>;
}

/** Mounts every authenticated `/v1` resource. */
export function mountV1(
  app: ReturnType<typeof createRouter>,
  { env, orm, queues, redis, limitByUser, limitFailedAuth }: V1Deps,
): void {
  app.openAPIRegistry.registerParameter('IdempotencyKey', idempotencyKeySchema);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  app.use(
    '/v1/*',
    authenticate({
      secret: env.JWT_SECRET,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      onFailure: limitFailedAuth,
    }),
  );
  if (limitByUser) app.use('/v1/*', limitByUser);
  app.use('/v1/*', requireJsonBody);
  const stats = new StatsCache(redis, env.QUEUE_PREFIX);
  const cursors = cursorCodec(env.CODE_HASH_SECRET);
  const soldOut = new SoldOutGate(redis, env.QUEUE_PREFIX);
  app.route(
    '/',
    policyRoutes({
      orm,
      codeHashSecret: env.CODE_HASH_SECRET,
      stats,
      cursors,
      // Other API processes see the change within the gate's refresh period.
      statusChanged: async (policyId) => {
        await clearSoldOut(redis, env.QUEUE_PREFIX, policyId);
        soldOut.forget(policyId);
      },
    }),
  );
  app.route(
    '/',
    issuanceRoutes({
      issuance: addsCorkedPerTurn(queues.issuance, redis),
      redis,
      queuePrefix: env.QUEUE_PREFIX,
      codeHashSecret: env.CODE_HASH_SECRET,
      soldOut,
      verdicts: new VerdictRecorder(redis, env.QUEUE_PREFIX),
    }),
  );
  app.route('/', jobRoutes({ queues, redis, queuePrefix: env.QUEUE_PREFIX }));
  app.route('/', couponRoutes({ orm, cursors }));
  app.route('/', auditRoutes({ orm, cursors }));
  app.route(
    '/',
    couponActionRoutes({
      orm,
      usage: addsCorkedPerTurn(queues.usage, redis),
      redis,
      queuePrefix: env.QUEUE_PREFIX,
      fingerprintSecret: env.CODE_HASH_SECRET,
    }),
  );
}
