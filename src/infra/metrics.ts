import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { paymentServiceCallsKey, paymentServiceCircuitKey } from './payment-service.js';

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

/** Where workers count finished jobs, so any API process can report totals for the whole fleet. */
export const jobCounterKey = (prefix: string) => `${prefix}:metrics:jobs`;

/**
 * Adds jobs that have reached their end, by outcome: `completed`, or the failure code (a business
 * code, or INTERNAL once the retries are spent). Attempts that will be retried are not counted.
 */
export async function countFinishedJobs(
  redis: Redis,
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

export interface MetricsSources {
  redis: Redis;
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
      const counts = await sources.redis.hgetall(jobCounterKey(sources.prefix));
      this.reset();
      for (const [field, value] of Object.entries(counts)) {
        const [queue = '', outcome = ''] = field.split('|');
        this.inc({ queue, outcome }, Number(value));
      }
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
  new Gauge({
    name: 'coupon_payment_service_requests_total',
    help: 'Calls of the scheduler processes to the payment service, by outcome (the status answered, NOT_FOUND, TIMEOUT, ERROR, CIRCUIT_OPEN)',
    labelNames: ['outcome'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await sources.redis.hgetall(paymentServiceCallsKey(sources.prefix));
      for (const [outcome, value] of Object.entries(counts)) this.set({ outcome }, Number(value));
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
  return {
    registry,
    observeRequest(labels: { method: string; route: string; status: string }, seconds: number) {
      httpRequests.inc(labels);
      httpDuration.observe(labels, seconds);
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
