import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { hashTag, parseEnv } from '../../src/infra/config/env.js';
import {
  clusterNode,
  createClientRedis,
  createWorkerRedis,
  redisTls,
} from '../../src/infra/redis/connection.js';
import { certificateFiles, PEM, refused } from './env-fixtures.js';

const { caFile } = certificateFiles('cluster-config');

describe('REDIS_CLUSTER_NODES', () => {
  it('is off by default, and then the queue prefix needs no hash tag', () => {
    const env = parseEnv({});
    expect(env.REDIS_CLUSTER_NODES).toBeNull();
    expect(env.REDIS_CLUSTER_TLS).toBe(false);
    expect(env.QUEUE_PREFIX).toBe('coupon');
  });

  it('takes host:port nodes, and defaults the queue prefix to a hash tag', () => {
    const env = parseEnv({ REDIS_CLUSTER_NODES: ' redis-a:7000, 10.0.0.2:7001,[::1]:7002 ' });
    expect(env.REDIS_CLUSTER_NODES).toEqual(['redis-a:7000', '10.0.0.2:7001', '[::1]:7002']);
    expect(env.QUEUE_PREFIX).toBe('{coupon}');
    expect(
      parseEnv({ REDIS_CLUSTER_NODES: 'a:7000', QUEUE_PREFIX: 'shop:{sale}' }).QUEUE_PREFIX,
    ).toBe('shop:{sale}');
  });

  it.each<[Record<string, string>, string]>([
    [{ REDIS_CLUSTER_NODES: 'redis-a' }, 'REDIS_CLUSTER_NODES: each node must be host:port'],
    [{ REDIS_CLUSTER_NODES: 'a:7000,b:0' }, 'REDIS_CLUSTER_NODES: each node must be host:port'],
    [{ REDIS_CLUSTER_NODES: 'a:70000' }, 'REDIS_CLUSTER_NODES: each node must be host:port'],
    [{ REDIS_CLUSTER_NODES: 'redis://a:7000' }, 'REDIS_CLUSTER_NODES: each node must be host:port'],
    [{ REDIS_CLUSTER_NODES: ' , ' }, 'REDIS_CLUSTER_NODES: needs at least one host:port'],
    [
      { REDIS_CLUSTER_NODES: 'a:7000', QUEUE_PREFIX: 'coupon' },
      "QUEUE_PREFIX: needs a hash tag such as \\{coupon\\} with REDIS_CLUSTER_NODES \\(each queue's keys must share a slot\\)",
    ],
    [
      { REDIS_CLUSTER_NODES: 'a:7000', QUEUE_PREFIX: '{}coupon' },
      "QUEUE_PREFIX: needs a hash tag such as \\{coupon\\} with REDIS_CLUSTER_NODES \\(each queue's keys must share a slot\\)",
    ],
    [{ REDIS_CLUSTER_TLS: 'yes' }, 'REDIS_CLUSTER_TLS: must be true or false'],
    [
      { REDIS_CLUSTER_TLS: 'true' },
      'REDIS_CLUSTER_TLS: is true but REDIS_CLUSTER_NODES is not set',
    ],
    [
      { REDIS_CLUSTER_NODES: 'a:7000', REDIS_TLS_CA_FILE: caFile },
      'REDIS_TLS_CA_FILE: is set but REDIS_CLUSTER_TLS is not true',
    ],
  ])('refuses %j with one line', (vars, line) => refused(vars, line));

  it('finds the hash tag Redis Cluster hashes', () => {
    expect(hashTag('{coupon}:issuance:wait')).toBe('coupon');
    expect(hashTag('shop:{sale}:x')).toBe('sale');
    expect(hashTag('{}coupon')).toBeNull();
    expect(hashTag('{}{coupon}')).toBeNull();
    expect(hashTag('coupon}{')).toBeNull();
    expect(hashTag('coupon')).toBeNull();
  });
});

describe('the Redis clients on a cluster', () => {
  const lazy = { lazyConnect: true };

  it('are cluster clients seeded with every node, failing fast on the request path', () => {
    const env = parseEnv({ REDIS_CLUSTER_NODES: 'a:7000,[::1]:7001' });
    const client = createClientRedis(env, lazy);
    const worker = createWorkerRedis(env);
    worker.on('error', () => undefined);
    try {
      expect(client).toBeInstanceOf(Cluster);
      expect(worker).toBeInstanceOf(Cluster);
      const options = (client as Cluster).options;
      expect(options.enableOfflineQueue).toBe(false);
      expect(options.redisOptions).toMatchObject({ maxRetriesPerRequest: 1, connectTimeout: 2000 });
      expect(options.redisOptions).not.toHaveProperty('tls');
      // BullMQ reads a cluster's node options: its blocking commands need unlimited retries.
      expect((worker as Cluster).options.redisOptions?.maxRetriesPerRequest).toBeNull();
    } finally {
      client.disconnect();
      worker.disconnect();
    }
    expect(clusterNode('[::1]:7001')).toEqual({ host: '::1', port: 7001 });
    expect(clusterNode('redis-a:7000')).toEqual({ host: 'redis-a', port: 7000 });
  });

  it('speak TLS to every node with REDIS_CLUSTER_TLS, trusting REDIS_TLS_CA_FILE', () => {
    const env = parseEnv({
      REDIS_CLUSTER_NODES: 'a:7000',
      REDIS_CLUSTER_TLS: 'true',
      REDIS_TLS_CA_FILE: caFile,
    });
    expect(redisTls(env)).toEqual({ rejectUnauthorized: true, ca: PEM });
    const client = createClientRedis(env, lazy) as Cluster;
    try {
      expect(client.options.redisOptions?.tls).toEqual({ rejectUnauthorized: true, ca: PEM });
      expect(client.options.dnsLookup).toBeTypeOf('function');
    } finally {
      client.disconnect();
    }
    // A rediss:// REDIS_URL says nothing about the cluster's nodes.
    expect(
      redisTls(parseEnv({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'rediss://h:6380' })),
    ).toBe(undefined);
  });

  it('are single-server clients without REDIS_CLUSTER_NODES, as before', () => {
    const client = createClientRedis(parseEnv({}), lazy);
    try {
      expect(client).toBeInstanceOf(Redis);
    } finally {
      client.disconnect();
    }
  });
});
