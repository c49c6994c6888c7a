import type { TestProject } from 'vitest/node';
import { describeMissing, probeServices, type ServiceUrls } from './support/probe.js';

declare module 'vitest' {
  export interface ProvidedContext {
    services: ServiceUrls;
  }
}

/**
 * Finds PostgreSQL, Redis and Kafka for the suite: the URLs in the environment when given (the
 * README's test command sets them), else containers when a Docker engine answers, else one clear
 * failure. Never a skip: a suite that silently tests nothing is worse than a red one.
 */
export default async function setup(project: TestProject) {
  const given = {
    databaseUrl: process.env.DATABASE_URL,
    redisUrl: process.env.REDIS_URL,
    kafkaBrokers: process.env.KAFKA_BROKERS,
  };
  let services: ServiceUrls;
  let teardown = async () => {};
  if (given.databaseUrl && given.redisUrl && given.kafkaBrokers) {
    services = {
      databaseUrl: given.databaseUrl,
      redisUrl: given.redisUrl,
      kafkaBrokers: given.kafkaBrokers.split(',').map((b) => b.trim()),
    };
  } else {
    const { startContainers, dockerAnswers } = await import('./support/containers.js');
    if (!(await dockerAnswers())) {
      throw new Error(
        'The tests need PostgreSQL, Redis and Kafka. Run them with `scripts/test.sh` (it starts ' +
          'what is missing), or set DATABASE_URL, REDIS_URL and KAFKA_BROKERS, or start a Docker ' +
          'engine so testcontainers can run them.',
      );
    }
    ({ services, teardown } = await startContainers());
  }

  const databaseName = new URL(services.databaseUrl).pathname.slice(1);
  if (!/test/i.test(databaseName)) {
    throw new Error(
      `Refusing DATABASE_URL with database "${databaseName}": the suite creates and drops ` +
        'databases, so the name must contain "test".',
    );
  }
  const missing = await probeServices(services);
  if (missing.length > 0) throw new Error(describeMissing(missing));

  project.provide('services', services);
  return teardown;
}
