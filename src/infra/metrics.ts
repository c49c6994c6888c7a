import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { paymentServiceCallsKey, paymentServiceCircuitKey } from './payment-service.js';
import { sweepIntervalKey, sweepLastRunKey } from './queue/scheduler.js';
import { codeAttemptCounterKey } from './redis/code-attempts.js';
import type { RedisClient } from './redis/connection.js';

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

/** Where workers count finished jobs, so any API process can report totals for the whole fleet. */
export const jobCounterKey = (prefix: string) => `${prefix}:metrics:jobs`;

/**
 * Adds jobs that have reached their end, by outcome: `completed`, or the failure code (a business
 * code, or INTERNAL once the retries are spent). Attempts that will be retried are not counted.
 */
export async function countFinishedJobs(
  redis: RedisClient,
  prefix: string,
  queue: string,
  counts: Map<string, number>,
) {
  await Promise.all(
    [...counts].map(([outcome, n]) =>
      redis.hincrby(jobCounterKey(prefix), `${queue}|${outcome}`, n),
    ),
  );
}

/** Payment events applied, by `type|outcome`, counted by whichever process applied them. */
export const paymentCounterKey = (prefix: string) => `${prefix}:metrics:payments`;
/** Kafka messages sent to a DLQ, by reason (`x-error-code`). */
export const dlqCounterKey = (prefix: string) => `${prefix}:metrics:dlq`;

/** A fleet-wide counter kept in a Redis hash, one field per label set. */
export interface SharedCounter {
  add(field: string, n?: number): void;
  /** Writes what is still pending. */
  close(): Promise<void>;
}

/**
 * Counts into a Redis hash every 200 ms rather than once per event, and never fails the work it
 * counts: counts that cannot be written are kept for the next flush.
 */
export function sharedCounter(redis: RedisClient, key: string, logger: Logger): SharedCounter {
  let pending = new Map<string, number>();
  const flush = async () => {
    if (pending.size === 0) return;
    const counts = pending;
    pending = new Map();
    try {
      await Promise.all([...counts].map(([field, n]) => redis.hincrby(key, field, n)));
    } catch (error) {
      for (const [field, n] of counts) pending.set(field, (pending.get(field) ?? 0) + n);
      logger.warn({ key, err: error }, 'could not write counters; kept for the next attempt');
    }
  };
  const timer = setInterval(() => void flush(), 200);
  timer.unref();
  return {
    add(field, n = 1) {
      pending.set(field, (pending.get(field) ?? 0) + n);
    },
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

/** Sets a metric's samples from a Redis hash whose fields are its label values joined by `|`. */
async function fromHash<L extends string>(
  metric: { reset(): void; inc(labels: Partial<Record<L, string>>, value: number): void },
  redis: RedisClient,
  key: string,
  labels: readonly L[],
) {
  const counts = await redis.hgetall(key);
  metric.reset();
  for (const [field, value] of Object.entries(counts)) {
    const parts = field.split('|');
    const set = Object.fromEntries(labels.map((label, i) => [label, parts[i] ?? ''])) as Record<
      L,
      string
    >;
    metric.inc(set, Number(value));
  }
}

export interface MetricsSources {
  redis: RedisClient;
  prefix: string;
  queues: Queue[];
  /** Rows of the outbox not yet on Kafka. */
  outboxBacklog: () => Promise<number>;
  /** The payment bridge's consumer lag; may reject while Kafka is down. */
  consumerLag: () => Promise<number>;
}

/** The service's Prometheus registry: HTTP, jobs, queues, outbox, Kafka lag, process. */
export function createMetrics(sources: MetricsSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  // A counter whose totals live in Redis (every worker adds to them), so each scrape replaces the
  // local values with the fleet's; they only grow, as rate() and increase() expect.
  new Counter({
    name: 'coupon_jobs_total',
    help: 'Jobs that reached their end, by queue and outcome (completed or the failure code), all workers',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
    async collect() {
      await fromHash(this, sources.redis, jobCounterKey(sources.prefix), [
        'queue',
        'outcome',
      ] as const);
    },
  });
  new Gauge({
    name: 'coupon_queue_depth',
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const all = await Promise.all(sources.queues.map((q) => q.getJobCounts(...JOB_STATES)));
      sources.queues.forEach((queue, i) => {
        for (const state of JOB_STATES)
          this.set({ queue: queue.name, state }, all[i]?.[state] ?? 0);
      });
    },
  });
  new Gauge({
    name: 'coupon_outbox_backlog',
    help: 'Coupon events written but not yet acknowledged by Kafka',
    registers: [registry],
    async collect() {
      this.set(await sources.outboxBacklog());
    },
  });
  new Gauge({
    name: 'coupon_kafka_consumer_lag',
    help: 'Payment events on Kafka not yet committed by the bridge (-1 when Kafka cannot be asked)',
    registers: [registry],
    async collect() {
      this.set(await sources.consumerLag().catch(() => -1));
    },
  });
  new Counter({
    name: 'coupon_payment_service_requests_total',
    help: 'Calls of the scheduler processes to the payment service, by outcome (the status answered, NOT_FOUND, TIMEOUT, ERROR, CIRCUIT_OPEN)',
    labelNames: ['outcome'] as const,
    registers: [registry],
    async collect() {
      await fromHash(this, sources.redis, paymentServiceCallsKey(sources.prefix), [
        'outcome',
      ] as const);
    },
  });
  new Gauge({
    name: 'coupon_payment_service_circuit_state',
    help: 'The payment service circuit breaker as a scheduler last saw it: 0 closed, 1 half-open, 2 open',
    registers: [registry],
    async collect() {
      const state = await sources.redis.get(paymentServiceCircuitKey(sources.prefix));
      this.set(state === null ? 0 : Number(state));
    },
  });
  new Counter({
    name: 'coupon_payment_events_total',
    help: 'Payment events applied, by event type and outcome (COUPON_USED, NO_COUPON, ...), all processes',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
    async collect() {
      await fromHash(this, sources.redis, paymentCounterKey(sources.prefix), [
        'type',
        'outcome',
      ] as const);
    },
  });
  new Counter({
    name: 'coupon_kafka_dlq_total',
    help: 'Kafka messages sent to a DLQ, by reason (the x-error-code header), all processes',
    labelNames: ['reason'] as const,
    registers: [registry],
    async collect() {
      await fromHash(this, sources.redis, dlqCounterKey(sources.prefix), ['reason'] as const);
    },
  });
  new Counter({
    name: 'coupon_code_attempts_total',
    help: 'Code redemptions that failed (CODE_INVALID) and code requests refused for too many of them (RATE_LIMITED), all processes',
    labelNames: ['outcome'] as const,
    registers: [registry],
    async collect() {
      await fromHash(this, sources.redis, codeAttemptCounterKey(sources.prefix), [
        'outcome',
      ] as const);
    },
  });
  // A sweep that stops running (its schedule lost with Redis's data, no scheduler process) shows
  // here: the alert compares each sweep's last run with its interval.
  new Gauge({
    name: 'coupon_sweep_last_run_timestamp_seconds',
    help: 'When each scheduled sweep (expire, payment-sweep, prune) last finished, in Unix seconds',
    labelNames: ['sweep'] as const,
    registers: [registry],
    async collect() {
      await fromHash(this, sources.redis, sweepLastRunKey(sources.prefix), ['sweep'] as const);
    },
  });
  new Gauge({
    name: 'coupon_sweep_interval_seconds',
    help: 'How often each scheduled sweep is meant to run, in seconds, as its scheduler set it',
    labelNames: ['sweep'] as const,
    registers: [registry],
    async collect() {
      await fromHash(this, sources.redis, sweepIntervalKey(sources.prefix), ['sweep'] as const);
    },
  });
  return {
    registry,
    observeRequest(labels: { method: string; route: string; status: string }, seconds: number) {
      httpRequests.inc(labels);
      httpDuration.observe(labels, seconds);
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
