import type { Redis } from 'ioredis';
import type { Env } from '../../infra/config/env.js';
import type { Orm } from '../../infra/db/orm.js';
import type { Queues } from '../../infra/queue/queues.js';
import type { createRouter } from '../validation.js';

export interface V1Deps {
  env: Env;
  orm: Orm;
  queues: Queues;
  redis: Redis;
}

/** Mounts every authenticated `/v1` resource. */
export function mountV1(_app: ReturnType<typeof createRouter>, _deps: V1Deps): void {}
