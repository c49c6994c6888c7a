import type { Kafka } from 'kafkajs';
import type { Orm } from './db/orm.js';
import { type CheckReport, runChecks } from './health.js';
import { consumerLag, pingKafka, sharedAdmin } from './kafka/client.js';
import type { RedisClient } from './redis/connection.js';
import { checkDurability, type DurabilityRequirement } from './redis/durability.js';

/** Each dependency's own timeout in `/ready`. */
export const CHECK_TIMEOUT_MS = 2000;

/**
 * What an API process asks its backends for `/ready` and `/metrics`, over one Kafka admin client
 * kept for the process's life.
 */
export function createProbes(deps: {
  orm: Orm;
  redis: RedisClient;
  /** What Redis must keep: `/ready` says `down`, naming the setting, when it would lose jobs. */
  durability: DurabilityRequirement;
  kafka: Kafka;
  /** Whether this process's outbox relay keeps failing to publish (when it runs one). */
  circuitOpen?: () => boolean;
  groupId: string;
  topic: string;
}): {
  readiness: () => Promise<CheckReport>;
  consumerLag: () => Promise<number>;
  close(): Promise<void>;
} {
  const admin = sharedAdmin(deps.kafka);
  return {
    readiness: () =>
      runChecks(
        {
          postgres: () => deps.orm.em.getConnection().execute('select 1'),
          redis: () => checkDurability(deps.redis, deps.durability),
          kafka: () => pingKafka(admin.use, deps.circuitOpen),
        },
        CHECK_TIMEOUT_MS,
      ),
    consumerLag: () => admin.use((client) => consumerLag(client, deps.groupId, deps.topic)),
    close: () => admin.close(),
  };
}
