import type { Context, MiddlewareHandler } from 'hono';
import type { Ports } from '../../app/ports.js';
import type { AppEnv } from '../context.js';
import { cursorCodec } from '../cursor.js';
import { authenticate } from '../middleware/auth.js';
import { requireJsonBody } from '../middleware/require-json.js';
import { idempotencyKeySchema } from '../schemas/issuance.js';
import type { createRouter } from '../validation.js';
import { auditRoutes } from './audit.js';
import { couponActionRoutes } from './coupon-actions.js';
import { couponRoutes } from './coupons.js';
import { issuanceRoutes } from './issuances.js';
import { jobRoutes } from './jobs.js';
import { orderRoutes } from './orders.js';
import { policyRoutes } from './policies.js';

export interface V1Deps {
  env: {
    JWT_SECRET: string;
    JWT_ISSUER?: string | undefined;
    JWT_AUDIENCE?: string | undefined;
    /** Also the key that signs cursors. */
    CODE_HASH_SECRET: string;
  };
  /** What the use cases the routes call need. */
  ports: Ports;
  /** The per-user rate limit, run right after authentication. */
  limitByUser?: MiddlewareHandler<AppEnv>;
  /** What one user may keep in Redis: jobs a day, actions per coupon an hour. */
  jobQuotas?: MiddlewareHandler<AppEnv>;
  /** Counts a request that failed authentication against its address; throws when over. */
  limitFailedAuth?: (c: Context<AppEnv>) => Promise<void>;
}

/** Mounts every authenticated `/v1` resource. */
export function mountV1(
  app: ReturnType<typeof createRouter>,
  { env, ports, limitByUser, jobQuotas, limitFailedAuth }: V1Deps,
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
  if (jobQuotas) app.use('/v1/*', jobQuotas);
  app.use('/v1/*', requireJsonBody);
  const cursors = cursorCodec(env.CODE_HASH_SECRET);
  app.route('/', policyRoutes({ ports, cursors }));
  app.route('/', issuanceRoutes({ ports }));
  app.route('/', jobRoutes({ ports }));
  app.route('/', couponRoutes({ ports, cursors }));
  app.route('/', auditRoutes({ ports, cursors }));
  app.route('/', couponActionRoutes({ ports }));
  app.route('/', orderRoutes({ ports }));
}
