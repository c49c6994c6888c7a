/**
 * What `npm run bench:soak` reads of Redis: the shared server's memory, the keys under the run's
 * prefix, and — at the end — whose each key is and what it costs (MEMORY USAGE).
 */
import type { Redis } from 'ioredis';

/** The fields of `INFO memory` the soak reports, in bytes. */
export interface RedisMemory {
  usedMemory: number;
  dataset: number;
  overhead: number;
  clients: number;
  scripts: number;
}

export async function redisMemory(redis: Redis): Promise<RedisMemory> {
  const info = await redis.info('memory');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return {
    usedMemory: field('used_memory'),
    dataset: field('used_memory_dataset'),
    overhead: field('used_memory_overhead'),
    clients: field('mem_clients_normal'),
    scripts: field('used_memory_scripts'),
  };
}

/** Every key under `prefix:` (SCAN MATCH, bounded). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  for (let round = 0; round < 100_000; round++) {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 2000);
    keys.push(...batch);
    cursor = next;
    if (cursor === '0') break;
  }
  return keys;
}

export type Owner = 'abuser' | 'normal' | 'shared';
export type KeyClass = 'jobs' | 'idempotency' | 'limits' | 'queue';

export interface Attribution {
  keys: number;
  bytes: number;
  /** Per owner and class: keys and bytes (MEMORY USAGE … SAMPLES 0). */
  byOwner: Record<Owner, Record<KeyClass, { keys: number; bytes: number }>>;
  /** The largest shared keys (streams, sets of finished jobs), for the derivation of the bound. */
  largestShared: { key: string; type: string; bytes: number; length: number }[];
  /** Mean bytes of one job hash and of one idempotency record. */
  meanJobBytes: number;
  meanIdempotencyBytes: number;
  /** The largest job hash of each owner: its MEMORY USAGE and its fields' lengths. */
  jobFields: Partial<Record<Owner, Record<string, number>>>;
}

const emptyClasses = () => ({
  jobs: { keys: 0, bytes: 0 },
  idempotency: { keys: 0, bytes: 0 },
  limits: { keys: 0, bytes: 0 },
  queue: { keys: 0, bytes: 0 },
});

/**
 * Whose every key under `prefix` is: a job hash by its `actor`, an idempotency record by the scope
 * of a key the abuser sent, a rate-limit, quota or code-attempt key by the user it names; everything else (the
 * queues' sets, streams and counters) is shared.
 */
export async function attribute(
  redis: Redis,
  prefix: string,
  abuserSub: string,
  abuserScopes: Set<string>,
): Promise<Attribution> {
  const keys = await keysUnder(redis, prefix);
  const byOwner: Attribution['byOwner'] = {
    abuser: emptyClasses(),
    normal: emptyClasses(),
    shared: emptyClasses(),
  };
  const jobKey = new RegExp(`^${escapeRegExp(prefix)}:(?:issuance|usage):((?:iss|use)_[^:]+)$`);
  const idemKey = new RegExp(`^${escapeRegExp(prefix)}:idem:([0-9a-f]{64})$`);
  const limitKey = new RegExp(
    `^${escapeRegExp(prefix)}:(?:rl:user:(.+)|quota:jobs:\\d+:(.+)|quota:coupon:\\d+:[^:]+:(.+)|code-attempts:(.+))$`,
  );
  const largestShared: Attribution['largestShared'] = [];
  let jobBytes = 0;
  let jobs = 0;
  let idemBytes = 0;
  let idems = 0;
  /** The largest job hash of each owner: what one job costs at most. */
  const sampleJob: Partial<Record<Owner, { key: string; bytes: number }>> = {};
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    const pipeline = redis.pipeline();
    for (const key of batch) {
      pipeline.memory('USAGE', key, 'SAMPLES', '0');
      if (jobKey.test(key)) pipeline.hget(key, 'data');
    }
    const answers = ((await pipeline.exec()) ?? []).map(([, value]) => value);
    let at = 0;
    for (const key of batch) {
      const bytes = Number(answers[at++] ?? 0);
      let owner: Owner = 'shared';
      let kind: KeyClass = 'queue';
      if (jobKey.test(key)) {
        const data = answers[at++];
        kind = 'jobs';
        jobs += 1;
        jobBytes += bytes;
        const actor =
          typeof data === 'string' ? (JSON.parse(data) as { actor?: string }).actor : '';
        owner = actor === abuserSub ? 'abuser' : actor ? 'normal' : 'shared';
        if (bytes > (sampleJob[owner]?.bytes ?? -1)) sampleJob[owner] = { key, bytes };
      } else if (idemKey.test(key)) {
        kind = 'idempotency';
        idems += 1;
        idemBytes += bytes;
        owner = abuserScopes.has(idemKey.exec(key)![1]!) ? 'abuser' : 'normal';
      } else if (limitKey.test(key)) {
        const match = limitKey.exec(key)!;
        const sub = match[1] ?? match[2] ?? match[3] ?? match[4];
        kind = 'limits';
        owner = sub === abuserSub ? 'abuser' : 'normal';
      }
      byOwner[owner][kind].keys += 1;
      byOwner[owner][kind].bytes += bytes;
      if (owner === 'shared') largestShared.push({ key, type: '', bytes, length: 0 });
    }
  }
  largestShared.sort((a, b) => b.bytes - a.bytes);
  largestShared.splice(8);
  for (const entry of largestShared) {
    entry.type = await redis.type(entry.key);
    entry.length =
      entry.type === 'stream'
        ? await redis.xlen(entry.key)
        : entry.type === 'zset'
          ? await redis.zcard(entry.key)
          : entry.type === 'hash'
            ? await redis.hlen(entry.key)
            : entry.type === 'list'
              ? await redis.llen(entry.key)
              : entry.type === 'set'
                ? await redis.scard(entry.key)
                : 1;
    entry.key = entry.key.slice(prefix.length + 1);
  }
  const jobFields: Attribution['jobFields'] = {};
  for (const [owner, { key, bytes }] of Object.entries(sampleJob) as [
    Owner,
    { key: string; bytes: number },
  ][]) {
    const fields = await redis.hgetall(key);
    jobFields[owner] = {
      'MEMORY USAGE': bytes,
      ...Object.fromEntries(
        Object.entries(fields).map(([field, value]) => [field, Buffer.byteLength(value)]),
      ),
    };
  }
  const total = Object.values(byOwner)
    .flatMap((classes) => Object.values(classes))
    .reduce((sum, c) => ({ keys: sum.keys + c.keys, bytes: sum.bytes + c.bytes }), {
      keys: 0,
      bytes: 0,
    });
  return {
    ...total,
    byOwner,
    largestShared,
    meanJobBytes: jobs > 0 ? Math.round(jobBytes / jobs) : 0,
    meanIdempotencyBytes: idems > 0 ? Math.round(idemBytes / idems) : 0,
    jobFields,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
