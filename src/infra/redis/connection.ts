import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, type ClusterNode, Redis, type RedisOptions } from 'ioredis';
import type { Env } from '../config/env.js';

/** A client of one Redis server, or of a Redis Cluster: the service uses either the same way. */
export type RedisClient = Redis | Cluster;

/** Where Redis is and how to trust it: every Redis client of the service is made from this. */
export type RedisConfig = Pick<Env, 'REDIS_URL'> &
  Partial<
    Pick<
      Env,
      | 'REDIS_TLS_CA_FILE'
      | 'REDIS_TLS_REJECT_UNAUTHORIZED'
      | 'REDIS_CLUSTER_NODES'
      | 'REDIS_CLUSTER_TLS'
    >
  >;

const clustered = (
  config: RedisConfig,
): config is RedisConfig & { REDIS_CLUSTER_NODES: string[] } =>
  (config.REDIS_CLUSTER_NODES?.length ?? 0) > 0;

/**
 * TLS options for a `rediss://` URL, or for every node of a cluster with REDIS_CLUSTER_TLS
 * (`undefined` otherwise): the CA file when one is given (else Node's CAs), and whether an
 * unverifiable certificate is refused.
 */
export function redisTls(config: RedisConfig): ConnectionOptions | undefined {
  const encrypted = clustered(config)
    ? config.REDIS_CLUSTER_TLS === true
    : config.REDIS_URL.startsWith('rediss:');
  if (!encrypted) return undefined;
  const tls: ConnectionOptions = {
    rejectUnauthorized: config.REDIS_TLS_REJECT_UNAUTHORIZED ?? true,
  };
  if (config.REDIS_TLS_CA_FILE) tls.ca = readFileSync(config.REDIS_TLS_CA_FILE, 'utf8');
  return tls;
}

/** `host:port` (the host of an IPv6 address in brackets) as ioredis takes a cluster node. */
export function clusterNode(node: string): ClusterNode {
  const colon = node.lastIndexOf(':');
  return {
    host: node.slice(0, colon).replace(/^\[(.*)\]$/, '$1'),
    port: Number(node.slice(colon + 1)),
  };
}

function createRedis(config: RedisConfig, options: RedisOptions): RedisClient {
  const tls = redisTls(config);
  if (!clustered(config)) return new Redis(config.REDIS_URL, tls ? { ...options, tls } : options);
  // The offline queue is the cluster's, not each node connection's.
  const { enableOfflineQueue, ...nodeOptions } = options;
  return new Cluster(config.REDIS_CLUSTER_NODES.map(clusterNode), {
    redisOptions: tls ? { ...nodeOptions, tls } : nodeOptions,
    ...(enableOfflineQueue !== undefined && { enableOfflineQueue }),
    // Managed clusters with TLS announce names their certificates carry: connect by that name
    // rather than by an address it resolves to.
    ...(tls && { dnsLookup: (address, callback) => callback(null, address) }),
  });
}

/**
 * A connection for BullMQ workers and blocking commands: retries forever, as BullMQ requires.
 */
export function createWorkerRedis(config: RedisConfig): RedisClient {
  return createRedis(config, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/**
 * A connection for request paths: commands fail fast while Redis is down, so an API request answers
 * 503 instead of hanging until Redis returns.
 */
export function createClientRedis(config: RedisConfig, options: RedisOptions = {}): RedisClient {
  return createRedis(config, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    ...options,
  });
}

/**
 * A TLS failure retrying cannot cure: a certificate that does not verify, or TLS spoken to a port
 * that does not speak it.
 */
export function isTlsFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /CERT|^ERR_SSL_|^ERR_TLS_/.test(code);
}

/** The TLS failure of a connection to the cluster's first seed node, if that is what fails. */
async function seedTlsFailure(cluster: Cluster): Promise<Error | undefined> {
  const seed = cluster.nodes('all')[0];
  if (!seed?.options.tls) return undefined;
  const probe = seed.duplicate({ lazyConnect: true, retryStrategy: () => null });
  let failure: unknown;
  probe.on('error', (error) => {
    failure ??= error;
  });
  await probe.connect().catch((error: unknown) => {
    failure ??= error;
  });
  probe.disconnect();
  return isTlsFailure(failure) ? (failure as Error) : undefined;
}

/**
 * Waits for the first `ready`, so start-up fails clearly: at once on a TLS failure, else after
 * `timeoutMs` naming the last connection error.
 */
export async function waitForRedis(redis: RedisClient, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let last: Error | undefined;
    const fail = (why: string) => {
      cleanup();
      reject(new Error(`Redis ${why}`, { cause: last }));
    };
    const timer = setTimeout(
      () => fail(`did not answer within ${timeoutMs} ms${last ? `: ${last.message}` : ''}`),
      timeoutMs,
    );
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      last = error;
      if (isTlsFailure(error)) fail(`TLS connection failed: ${error.message}`);
    };
    // A cluster client says only that it reached no node (its slot lookups drop the nodes' own
    // errors), so one seed node is asked directly whether its certificate is the trouble.
    let asked = false;
    const onClusterError = (error: Error) => {
      onError(error);
      if (asked || !(redis instanceof Cluster)) return;
      asked = true;
      void seedTlsFailure(redis).then((failure) => failure && onError(failure));
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onClusterError);
    };
    redis.on('ready', onReady);
    redis.on('error', onClusterError);
  });
}
