import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { inject } from 'vitest';
import { createOrm, migrate, type Orm } from '../../src/infra/db/orm.js';

export function services() {
  return inject('services');
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The service URL with another database name. */
export function databaseUrl(name: string): string {
  const url = new URL(services().databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  orm: Orm;
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file, created empty and migrated, so files run in parallel
 * and the suite can run again on the same server.
 */
export async function createTestDatabase(
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const base = new URL(services().databaseUrl).pathname.slice(1);
  const name = `${base}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await adminQuery(`create database "${name}"`);
  const url = databaseUrl(name);
  const orm = await createOrm({ databaseUrl: url, poolMax: 5 });
  if (options.migrate !== false) await migrate(orm);
  return {
    name,
    url,
    orm,
    async drop() {
      await orm.close(true);
      await adminQuery(`drop database if exists "${name}" with (force)`);
    },
  };
}

/** A client of a Redis that is not there: its commands fail at once instead of waiting. */
export function unreachableRedis(): Redis {
  const redis = new Redis('redis://127.0.0.1:1', {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  });
  redis.on('error', () => undefined);
  return redis;
}
