import { Redis } from 'ioredis';
import pino from 'pino';
import { parseEnv } from '../../src/infra/config/env.js';
import type { Orm } from '../../src/infra/db/orm.js';
import { createQueues } from '../../src/infra/queue/queues.js';
import { buildApi } from '../../src/wiring/api.js';
import type { OpenApiDocument } from './client-types.js';

/**
 * The service's `/openapi.json`, from the app built in this process with clients that never
 * connect: the document comes from the route definitions alone, so no service needs to run.
 */
export async function openApiDocument(): Promise<OpenApiDocument> {
  const env = parseEnv({ LOG_LEVEL: 'silent' });
  // Nothing listens on port 1, and a lazy client does not try until a command is sent.
  const redis = new Redis('redis://127.0.0.1:1', {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  redis.on('error', () => undefined);
  const queues = createQueues(redis, env);
  try {
    const app = buildApi({
      env,
      logger: pino({ level: 'silent' }),
      // Only handlers use the ORM; serving the document runs none.
      orm: {} as Orm,
      queues,
      redis,
      readiness: async () => ({ ok: true, checks: {}, reasons: {} }),
      consumerLag: async () => 0,
    });
    const res = await app.request('/openapi.json');
    if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}`);
    return (await res.json()) as OpenApiDocument;
  } finally {
    await queues.close().catch(() => undefined);
    redis.disconnect();
  }
}
