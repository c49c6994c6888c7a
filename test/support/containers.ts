import { KafkaContainer } from '@testcontainers/kafka';
import { PostgreSqlContainer } from '@testcontainers/postgresql';
import { RedisContainer } from '@testcontainers/redis';
import { getContainerRuntimeClient } from 'testcontainers';
import type { ServiceUrls } from './probe.js';

export async function dockerAnswers(): Promise<boolean> {
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/** The same three services as the local scripts, in containers, for machines with Docker. */
export async function startContainers(): Promise<{
  services: ServiceUrls;
  teardown: () => Promise<void>;
}> {
  const [postgres, redis, kafka] = await Promise.all([
    new PostgreSqlContainer('postgres:16-alpine').withDatabase('coupon_test').start(),
    // As the service requires of a Redis it accepts work on (REDIS_DURABILITY).
    new RedisContainer('redis:7-alpine')
      .withCommand(['redis-server', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'])
      .start(),
    // The module drives Confluent's image of Apache Kafka; 8.x runs Kafka 4 in KRaft mode.
    new KafkaContainer('confluentinc/cp-kafka:8.0.0').start(),
  ]);
  return {
    services: {
      databaseUrl: postgres.getConnectionUri(),
      redisUrl: redis.getConnectionUrl(),
      kafkaBrokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
    },
    teardown: async () => {
      await Promise.all([postgres.stop(), redis.stop(), kafka.stop()]);
    },
  };
}
