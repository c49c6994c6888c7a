import { Cluster, type Redis } from 'ioredis';
import { OutageError } from '../failures.js';
import type { RedisClient } from './connection.js';

/** How durable the service requires Redis to be: what `REDIS_DURABILITY` and `REDIS_FSYNC` say. */
export interface DurabilityRequirement {
  /** `off`: any Redis is accepted, knowingly (tests and benchmarks that say so). */
  durability: 'on' | 'off';
  /** `always`: Redis must also fsync every write (`appendfsync always`). */
  fsync: 'everysec' | 'always';
}

/**
 * Redis would lose accepted work: its reason names the setting, and is safe to show to any
 * caller of `/ready` (no host, no address).
 */
export class RedisNotDurableError extends OutageError {
  override name = 'RedisNotDurableError';
}

/** The settings of one Redis server that the requirement reads. */
interface Settings {
  appendonly: string | undefined;
  maxmemoryPolicy: string | undefined;
  appendfsync: string | undefined;
}

async function configGet(node: Redis, name: string): Promise<string | undefined> {
  const answer = (await node.call('CONFIG', 'GET', name)) as string[];
  return answer[1];
}

/** A field of `INFO <section>`, for servers that refuse CONFIG (many managed ones do). */
async function infoField(node: Redis, section: string, field: string): Promise<string | undefined> {
  const text = await node.info(section);
  return new RegExp(`^${field}:(.*)$`, 'm').exec(text)?.[1]?.trim();
}

async function settingsOf(node: Redis): Promise<Settings> {
  try {
    return {
      appendonly: await configGet(node, 'appendonly'),
      maxmemoryPolicy: await configGet(node, 'maxmemory-policy'),
      appendfsync: await configGet(node, 'appendfsync'),
    };
  } catch {
    const aof = await infoField(node, 'persistence', 'aof_enabled');
    return {
      appendonly: aof === undefined ? undefined : aof === '1' ? 'yes' : 'no',
      maxmemoryPolicy: await infoField(node, 'memory', 'maxmemory_policy'),
      appendfsync: undefined,
    };
  }
}

/** What makes these settings lose accepted work, or null when they keep it. */
export function settingsProblem(
  settings: Settings,
  fsync: DurabilityRequirement['fsync'],
): string | null {
  if (settings.appendonly !== 'yes') {
    return `Redis does not persist accepted jobs: appendonly is ${settings.appendonly ?? 'unknown'} (needs yes)`;
  }
  if (settings.maxmemoryPolicy !== 'noeviction') {
    return `Redis may evict accepted jobs: maxmemory-policy is ${settings.maxmemoryPolicy ?? 'unknown'} (needs noeviction)`;
  }
  if (fsync === 'always' && settings.appendfsync !== 'always') {
    return `REDIS_FSYNC=always but Redis's appendfsync is ${settings.appendfsync ?? 'unknown'} (needs always)`;
  }
  return null;
}

/**
 * Resolves when Redis keeps what the service accepts (every master of a cluster); rejects with a
 * {@link RedisNotDurableError} naming the setting otherwise. With `durability: 'off'` it only
 * pings.
 */
export async function checkDurability(
  redis: RedisClient,
  { durability, fsync }: DurabilityRequirement,
): Promise<void> {
  if (durability === 'off') {
    await redis.ping();
    return;
  }
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    const problem = settingsProblem(await settingsOf(node), fsync);
    if (problem) throw new RedisNotDurableError(problem);
  }
}
