import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { RedisClient } from '../redis/connection.js';
import { gatherSocketWrites } from '../redis/gather-socket-writes.js';
import { FINISHED_JOB_AGE_S } from './queues.js';

/**
 * An idempotency record lives no longer than what it answers with: it is written when its job is
 * added and expires {@link FINISHED_JOB_AGE_S} later, before the job (kept that long after it
 * finishes) and long before the stored result of an action (7 days). A key reused with another
 * body meanwhile is refused (409).
 */
export const IDEMPOTENCY_TTL_S = FINISHED_JOB_AGE_S;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Records written before fingerprints were keyed hold a bare SHA-256; new ones say what they are. */
const HMAC_PREFIX = 'hmac:';
/** Sets these HMACs apart from others made with the same secret (coupon codes). */
const FINGERPRINT_CONTEXT = 'idempotency-fingerprint\n';

/** The body as one canonical text, independent of key order. */
function canonicalJson(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, item]) => item !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, item]) => [k, canonical(item)]),
        )
      : v;
  return JSON.stringify(canonical(value));
}

/**
 * The request's fingerprint kept in Redis: an HMAC keyed with a server secret, so what Redis holds
 * cannot be matched against guesses of a body (a code redemption's body is the code).
 */
export function requestFingerprint(secret: string, request: unknown): string {
  return `${HMAC_PREFIX}${createHmac('sha256', secret).update(FINGERPRINT_CONTEXT).update(canonicalJson(request)).digest('hex')}`;
}

/** What {@link enqueueOnce} needs of a queue: a BullMQ `Queue`, or {@link addsWithGatheredWrites} of one. */
export interface JobSink<D> {
  readonly name: string;
  add(name: string, data: D, opts: { jobId: string }): Promise<unknown>;
}

/**
 * The queue's own adds, with its Redis connection corked for the rest of the event-loop turn
 * ({@link gatherSocketWrites}): an API process under load starts many adds per turn, and their commands
 * then leave in one write. Each add is answered on its own, as Redis answers it. `connection` is the
 * client the queue was created with.
 */
export function addsWithGatheredWrites<D>(queue: Queue<D>, connection: RedisClient): JobSink<D> {
  return {
    name: queue.name,
    add(name, data, opts) {
      gatherSocketWrites(connection);
      return queue.add(name as never, data as never, opts);
    },
  };
}

export type EnqueueResult = { ok: true; jobId: string } | { ok: false; reason: 'KEY_REUSED' };

/**
 * Adds a job, once per Idempotency-Key. The job id is derived from (caller, key), so every repeat
 * names the same job and BullMQ adds it at most once; the first request's body hash is kept in
 * Redis (SET NX), so a repeat with another body is told apart. The worker's unique job id in
 * PostgreSQL makes a repeat that outlives both records still issue nothing twice.
 */
export async function enqueueOnce<D>(args: {
  queue: JobSink<D>;
  redis: RedisClient;
  keyPrefix: string;
  idPrefix: string;
  actor: string;
  idempotencyKey?: string;
  data: D;
  /** What identifies the request (its body); fingerprinted only when an Idempotency-Key comes with it. */
  request: unknown;
  /** The key of the request's fingerprint (a server secret). */
  secret: string;
}): Promise<EnqueueResult> {
  const { queue, redis, keyPrefix, idPrefix, actor, idempotencyKey, data } = args;
  if (idempotencyKey === undefined) {
    const jobId = `${idPrefix}${randomUUID()}`;
    await queue.add('job', data, { jobId });
    return { ok: true, jobId };
  }
  const scoped = sha256(`${queue.name}\n${actor}\n${idempotencyKey}`);
  const jobId = `${idPrefix}${scoped.slice(0, 40)}`;
  const recordKey = `${keyPrefix}:idem:${scoped}`;
  const fingerprint = requestFingerprint(args.secret, args.request);
  const first = await redis.set(recordKey, fingerprint, 'EX', IDEMPOTENCY_TTL_S, 'NX');
  if (first === null) {
    const stored = await redis.get(recordKey);
    const same =
      stored === null ||
      stored === fingerprint ||
      (!stored.startsWith(HMAC_PREFIX) && stored === sha256(canonicalJson(args.request)));
    if (!same) return { ok: false, reason: 'KEY_REUSED' };
  }
  // Also on a repeat: the first request may have died between its SET and its add.
  await queue.add('job', data, { jobId });
  return { ok: true, jobId };
}
