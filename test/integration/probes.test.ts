import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import type { CheckReport } from '../../src/infra/health.js';
import { runChecks } from '../../src/infra/health.js';
import { createKafka, ensureTopics, withAdmin } from '../../src/infra/kafka/client.js';
import { createMetrics } from '../../src/infra/metrics.js';
import { createProbes } from '../../src/infra/probes.js';
import {
  createTestDatabase,
  services,
  type TestDatabase,
  uniqueName,
} from '../support/services.js';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('/ready and /metrics answer from shared checks', () => {
  let db: TestDatabase;
  const redis = new Redis(services().redisUrl);
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    redis.disconnect();
    await db.drop();
  });

  it('runs one probe for any number of callers within 1 s, concurrent ones sharing it', async () => {
    let runs = 0;
    let scrapes = 0;
    const app = createApp({
      logger,
      readiness: async (): Promise<CheckReport> => {
        runs += 1;
        await sleep(50);
        return { ok: true, checks: { postgres: 'up' }, reasons: {} };
      },
      metrics: createMetrics({
        redis,
        prefix: uniqueName('probe'),
        queues: [],
        outboxBacklog: async () => {
          scrapes += 1;
          await sleep(50);
          return 0;
        },
        consumerLag: async () => 0,
      }),
    });
    const burst = async (path: string) => {
      const answers = await Promise.all(Array.from({ length: 20 }, () => app.request(path)));
      expect(answers.every((res) => res.status === 200)).toBe(true);
    };
    await burst('/ready');
    await burst('/metrics');
    expect({ runs, scrapes }).toEqual({ runs: 1, scrapes: 1 });
    await burst('/ready');
    await burst('/metrics');
    expect({ runs, scrapes }).toEqual({ runs: 1, scrapes: 1 });
    await sleep(1100);
    await burst('/ready');
    await burst('/metrics');
    expect({ runs, scrapes }).toEqual({ runs: 2, scrapes: 2 });
  });

  it('asks Kafka over one admin client for every readiness check and lag reading', async () => {
    const kafka = createKafka({ brokers: services().kafkaBrokers, clientId: 'probe-test' });
    const topic = uniqueName('probe.topic');
    await withAdmin(kafka, (client) => ensureTopics(client, [{ topic }]));
    let adminsMade = 0;
    const admin = kafka.admin.bind(kafka);
    kafka.admin = (...args) => {
      adminsMade += 1;
      return admin(...args);
    };
    const probes = createProbes({
      orm: db.orm,
      redis,
      durability: { durability: 'on', fsync: 'everysec' },
      kafka,
      groupId: uniqueName('probe-group'),
      topic,
    });
    try {
      for (let i = 0; i < 5; i += 1) {
        expect(await probes.readiness()).toEqual({
          ok: true,
          checks: { postgres: 'up', redis: 'up', kafka: 'up' },
          reasons: {},
        });
        expect(await probes.consumerLag()).toBe(0);
      }
      expect(adminsMade).toBe(1);
    } finally {
      await probes.close();
    }
  });

  it('names no host or address in /ready and /metrics', async () => {
    const kafka = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'probe-test' });
    const probes = createProbes({
      orm: db.orm,
      redis,
      durability: { durability: 'on', fsync: 'everysec' },
      kafka,
      groupId: 'g',
      topic: 't',
    });
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432'), {
      code: 'ECONNREFUSED',
    });
    const app = createApp({
      logger,
      readiness: async () => {
        const report = await probes.readiness();
        const more = await runChecks(
          {
            postgres: async () => {
              throw refused;
            },
            dns: async () => {
              throw new Error('getaddrinfo ENOTFOUND db.internal.example');
            },
          },
          500,
        );
        return {
          ok: false,
          checks: { ...report.checks, ...more.checks },
          reasons: { ...report.reasons, ...more.reasons },
        };
      },
      metrics: createMetrics({
        redis,
        prefix: uniqueName('probe'),
        queues: [],
        outboxBacklog: async () => 0,
        consumerLag: probes.consumerLag,
      }),
    });
    try {
      const ready = await app.request('/ready');
      expect(ready.status).toBe(503);
      const text = await ready.text();
      const body = JSON.parse(text) as { reasons: Record<string, string> };
      expect(body.reasons).toMatchObject({
        postgres: 'connection refused',
        kafka: expect.any(String),
      });
      const metrics = await (await app.request('/metrics')).text();
      for (const leak of ['127.0.0.1', '10.1.2.3', 'db.internal', ':5432', hostname()]) {
        expect(text).not.toContain(leak);
        expect(metrics).not.toContain(leak);
      }
    } finally {
      await probes.close();
    }
  });
});
