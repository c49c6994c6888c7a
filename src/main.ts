import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { activeRoles, ConfigError, type Env, parseEnv } from './infra/config/env.js';
import { createOrm } from './infra/db/orm.js';
import { createKafka, kafkaConnection } from './infra/kafka/client.js';
import { createLogger } from './infra/logger.js';
import { createQueues } from './infra/queue/queues.js';
import { createClientRedis, type RedisClient, waitForRedis } from './infra/redis/connection.js';

const SHUTDOWN_LIMIT_MS = 10_000;

/**
 * Starts a component that needs a dependency which may be down (Kafka), retrying with backoff until
 * it starts or the process stops, instead of failing the whole process.
 */
function keepStarting(
  name: string,
  logger: Logger,
  start: () => Promise<{ close(): Promise<void> }>,
): { close(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake = () => {};
  const running = (async () => {
    for (let delay = 500; !stopped; delay = Math.min(delay * 2, 10_000)) {
      try {
        return await start();
      } catch (error) {
        logger.warn({ err: error, retryInMs: delay }, `${name} could not start; retrying`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, delay);
        });
      }
    }
    return undefined;
  })();
  return {
    async close() {
      stopped = true;
      clearTimeout(timer);
      wake();
      await (await running)?.close();
    },
  };
}

/**
 * A step of the shutdown. Steps run in the order they were pushed, reversed: stop accepting (HTTP,
 * the Kafka consumer), then the workers finish the jobs they hold, then the outbox relay publishes
 * what those jobs wrote, then the queues, Redis and PostgreSQL close.
 */
interface Closer {
  name: string;
  close: () => Promise<unknown>;
}

/**
 * Says at start-up, naming the setting, that Redis would lose accepted jobs: until it keeps them,
 * `/ready` is 503 and requests that make jobs answer 503 (REDIS_DURABILITY).
 */
async function warnUnlessDurable(redis: RedisClient, env: Env, logger: Logger): Promise<void> {
  const { checkDurability } = await import('./infra/redis/durability.js');
  try {
    await checkDurability(redis, { durability: env.REDIS_DURABILITY, fsync: env.REDIS_FSYNC });
  } catch (error) {
    logger.error(
      { reason: (error as Error).message },
      'Redis would lose accepted jobs: requests that make jobs answer 503 until it keeps them (or set REDIS_DURABILITY=off knowingly)',
    );
  }
}

async function start(env: Env, logger: Logger): Promise<{ stop: () => Promise<void> }> {
  const roles = activeRoles(env);
  const closers: Closer[] = [];
  const closeLast = (name: string, close: () => Promise<unknown>) => closers.push({ name, close });

  const orm = await createOrm({ databaseUrl: env.DATABASE_URL, poolMax: env.DB_POOL_MAX });
  closeLast('postgres', () => orm.close());
  const redis = createClientRedis(env);
  closeLast('redis', () => redis.quit());
  await waitForRedis(redis);
  if (roles.has('api')) await warnUnlessDurable(redis, env, logger);
  // Producers share the fail-fast connection: a request answers 503 rather than wait for Redis.
  const queues = createQueues(redis, env);
  closeLast('queues', () => queues.close());
  const kafka = createKafka({ ...kafkaConnection(env), clientId: 'coupon-service', logger });

  // The relay starts before the workers so that it stops after them: its last flush publishes the
  // events of the jobs they finish while stopping. It does not wait for Kafka: an outage delays
  // events and loses none, and the other roles of this process keep serving meanwhile.
  let relayCircuitOpen: (() => boolean) | undefined;
  if (roles.has('bridge')) {
    const { startOutboxRelay } = await import('./infra/kafka/outbox-relay.js');
    const relay = startOutboxRelay({ orm, kafka, topic: env.KAFKA_COUPON_EVENTS_TOPIC, logger });
    closeLast('outbox relay', () => relay.close());
    relayCircuitOpen = relay.circuitOpen;
  }

  // Each role's modules load only when the role runs: a worker process never loads the HTTP stack.
  if (roles.has('worker')) {
    const { startWorkers } = await import('./wiring/workers.js');
    const workers = startWorkers({ env, logger, orm, redis });
    closeLast('workers', () => workers.close());
  }
  if (roles.has('scheduler')) {
    const { startScheduler } = await import('./wiring/workers.js');
    const scheduler = await startScheduler({ env, logger, orm, redis });
    closeLast('scheduler', () => scheduler.close());
  }

  if (roles.has('bridge')) {
    const { startPaymentBridge } = await import('./wiring/payment-bridge.js');
    const { dlqCounterKey, sharedCounter } = await import('./infra/metrics.js');
    const dlq = sharedCounter(redis, dlqCounterKey(env.QUEUE_PREFIX), logger);
    closeLast('dlq counter', () => dlq.close());
    const bridge = keepStarting('payment bridge', logger, () =>
      startPaymentBridge({
        kafka,
        orm,
        usageQueue: queues.usage,
        topic: env.KAFKA_PAYMENT_TOPIC,
        groupId: env.KAFKA_CONSUMER_GROUP,
        logger,
        countDlq: (reason, n) => dlq.add(reason, n),
      }),
    );
    closeLast('payment bridge', () => bridge.close());
  }

  if (roles.has('api') && env.API_PROCESSES > 1 && cluster.isPrimary) {
    const { startApiProcesses } = await import('./api-processes.js');
    const api = await startApiProcesses(env.API_PROCESSES, logger);
    // Stop accepting first, as a single api process does.
    closeLast('api processes', () => api.close());
  } else if (roles.has('api')) {
    const { serve } = await import('@hono/node-server');
    const { buildApi } = await import('./wiring/api.js');
    const { createProbes } = await import('./infra/probes.js');
    const probes = createProbes({
      orm,
      redis,
      durability: { durability: env.REDIS_DURABILITY, fsync: env.REDIS_FSYNC },
      kafka,
      circuitOpen: () => relayCircuitOpen?.() ?? false,
      groupId: env.KAFKA_CONSUMER_GROUP,
      topic: env.KAFKA_PAYMENT_TOPIC,
    });
    closeLast('probes', () => probes.close());
    const app = buildApi({
      env,
      logger,
      orm,
      queues,
      redis,
      readiness: probes.readiness,
      consumerLag: probes.consumerLag,
    });
    const server = serve({ fetch: app.fetch, port: env.PORT, hostname: '0.0.0.0' });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const address = server.address();
    logger.info({ port: typeof address === 'object' ? address?.port : env.PORT }, 'api listening');
    // Stop accepting first: it is the last step pushed, so the first one run.
    closeLast('http server', () => new Promise<void>((resolve) => server.close(() => resolve())));
  }

  logger.info({ roles: [...roles] }, 'started');
  return {
    async stop() {
      for (const { name, close } of closers.reverse()) {
        logger.info({ step: name }, 'stopping');
        await close().catch((error: unknown) =>
          logger.warn({ err: error, step: name }, 'error while closing'),
        );
      }
    },
  };
}

async function main(): Promise<void> {
  let env: Env;
  try {
    env = parseEnv(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger(env.LOG_LEVEL);
  let running: Awaited<ReturnType<typeof start>>;
  try {
    running = await start(env, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'start-up failed');
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const limit = setTimeout(() => {
      logger.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS - 500);
    limit.unref();
    running.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

await main();
