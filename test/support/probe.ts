import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';

export interface ServiceUrls {
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
}

interface Missing {
  service: string;
  address: string;
  reason: string;
}

async function attempt(fn: () => Promise<unknown>): Promise<string | null> {
  try {
    await fn();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Checks each service for real (a query, a PING, a metadata request) and names the ones that fail. */
export async function probeServices(services: ServiceUrls): Promise<Missing[]> {
  const admin = new URL(services.databaseUrl);
  admin.pathname = '/postgres';
  const checks: [string, string, () => Promise<unknown>][] = [
    [
      'PostgreSQL',
      admin.host,
      async () => {
        const client = new pg.Client({
          connectionString: admin.toString(),
          connectionTimeoutMillis: 3000,
        });
        await client.connect();
        try {
          await client.query('select 1');
        } finally {
          await client.end();
        }
      },
    ],
    [
      'Redis',
      new URL(services.redisUrl).host,
      async () => {
        const redis = new Redis(services.redisUrl, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
          connectTimeout: 3000,
        });
        try {
          await redis.connect();
          await redis.ping();
        } finally {
          redis.disconnect();
        }
      },
    ],
    [
      'Kafka',
      services.kafkaBrokers.join(','),
      async () => {
        const admin = new Kafka({
          brokers: services.kafkaBrokers,
          logLevel: logLevel.NOTHING,
          connectionTimeout: 3000,
          retry: { retries: 2 },
        }).admin();
        await admin.connect();
        try {
          await admin.listTopics();
        } finally {
          await admin.disconnect();
        }
      },
    ],
  ];
  const results = await Promise.all(
    checks.map(async ([service, address, fn]) => ({ service, address, reason: await attempt(fn) })),
  );
  return results.filter((r): r is Missing => r.reason !== null);
}

export function describeMissing(missing: Missing[]): string {
  return `Test services unreachable: ${missing
    .map((m) => `${m.service} at ${m.address} (${m.reason})`)
    .join('; ')}. Start them with scripts/services.sh, or run the suite with scripts/test.sh.`;
}
