import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { z } from 'zod';
import {
  ORDER_PAYMENT_STATUSES,
  type OrderPaymentStatus,
  type PaymentService,
} from '../domain/index.js';
import type { RedisClient } from './redis/connection.js';

/** How a call to the payment service ended, as counted in `coupon_payment_service_requests_total`. */
export type PaymentServiceOutcome = OrderPaymentStatus | 'TIMEOUT' | 'ERROR' | 'CIRCUIT_OPEN';

/** The breaker's state as the gauge shows it. */
export const CIRCUIT_STATE_VALUES = { closed: 0, 'half-open': 1, open: 2 } as const;
export type CircuitStateName = keyof typeof CIRCUIT_STATE_VALUES;

export interface PaymentServiceClientOptions {
  /**
   * `PAYMENT_SERVICE_URL`: the client asks `GET {baseUrl}/orders/{orderId}/payment`, the order id
   * as one path segment ({@link pathSegment}).
   */
  baseUrl: string;
  /** @defaultValue 2000 */
  timeoutMs?: number;
  /** Failures in a row (timeouts, errors, 5xx) that open the circuit. @defaultValue 5 */
  failuresToOpen?: number;
  /** How long an open circuit refuses calls before one is tried again. @defaultValue 30000 */
  halfOpenAfterMs?: number;
  /** Told of each call's outcome and of each change of the breaker's state. */
  observer?: PaymentServiceObserver;
}

export interface PaymentServiceObserver {
  call(outcome: PaymentServiceOutcome): void;
  circuit(state: CircuitStateName): void;
}

const ANSWERED = ORDER_PAYMENT_STATUSES.filter((status) => status !== 'NOT_FOUND');
const answerSchema = z.object({ status: z.enum(ANSWERED as [OrderPaymentStatus]) });

/** More than any status answer needs: a larger body is refused rather than read. */
const MAX_ANSWER_CHARS = 16 * 1024;

/**
 * `value` as one URL path segment: percent-encoded, and a whole `.` or `..` too, which
 * `encodeURIComponent` leaves as it is and a URL resolves as "here" or "one level up".
 */
export function pathSegment(value: string): string {
  const encoded = encodeURIComponent(value);
  return encoded === '.' || encoded === '..' ? encoded.replaceAll('.', '%2E') : encoded;
}

/**
 * GET with `path` sent as written. Not `fetch`: a WHATWG URL resolves `%2E%2E` as `..` too, so an
 * order id of `..` would still ask another path.
 */
function get(origin: URL, path: string, signal: AbortSignal): Promise<IncomingMessage> {
  const send = origin.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    send(origin, { path, headers: { accept: 'application/json' }, signal }, resolve)
      .on('error', reject)
      .end();
  });
}

async function readJson(res: IncomingMessage): Promise<unknown> {
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) {
    text += chunk;
    if (text.length > MAX_ANSWER_CHARS) {
      res.destroy();
      throw new Error('the payment service answered a body too large for a status');
    }
  }
  return JSON.parse(text);
}

const stateName = (state: CircuitState): CircuitStateName =>
  state === CircuitState.Open || state === CircuitState.Isolated
    ? 'open'
    : state === CircuitState.HalfOpen
      ? 'half-open'
      : 'closed';

/**
 * The payment service adapter: each call has its own timeout and runs behind a circuit breaker, so
 * a service that does not answer costs a sweep `failuresToOpen` timeouts, not one per reservation.
 * Any failure is the answer `UNAVAILABLE`: the caller keeps the reservation and asks later.
 */
export function createPaymentServiceClient({
  baseUrl,
  timeoutMs = 2000,
  failuresToOpen = 5,
  halfOpenAfterMs = 30_000,
  observer,
}: PaymentServiceClientOptions): PaymentService & { circuitState(): CircuitStateName } {
  const origin = new URL(baseUrl);
  const basePath = origin.pathname.replace(/\/+$/, '');
  const breaker = circuitBreaker(handleAll, {
    halfOpenAfter: halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(failuresToOpen),
  });
  breaker.onStateChange((state) => observer?.circuit(stateName(state)));
  const policy = wrap(breaker, timeout(timeoutMs, TimeoutStrategy.Aggressive));

  async function ask(orderId: string, signal: AbortSignal): Promise<OrderPaymentStatus> {
    const res = await get(origin, `${basePath}/orders/${pathSegment(orderId)}/payment`, signal);
    const status = res.statusCode ?? 0;
    if (status === 404 || status < 200 || status > 299) {
      // Read to the end, so the connection can serve the next call.
      res.resume();
      if (status === 404) return 'NOT_FOUND';
      throw new Error(`the payment service answered ${status}`);
    }
    const parsed = answerSchema.safeParse(await readJson(res));
    if (!parsed.success) throw new Error('the payment service answered an unknown status');
    return parsed.data.status;
  }

  return {
    async orderPayment(orderId) {
      let outcome: PaymentServiceOutcome;
      try {
        outcome = await policy.execute(({ signal }) => ask(orderId, signal));
      } catch (error) {
        outcome =
          error instanceof BrokenCircuitError
            ? 'CIRCUIT_OPEN'
            : error instanceof TaskCancelledError
              ? 'TIMEOUT'
              : 'ERROR';
      }
      observer?.call(outcome);
      return outcome === 'TIMEOUT' || outcome === 'ERROR' || outcome === 'CIRCUIT_OPEN'
        ? 'UNAVAILABLE'
        : outcome;
    },
    circuitState: () => stateName(breaker.state),
  };
}

/** Where scheduler processes count payment service calls, so any API process reports them. */
export const paymentServiceCallsKey = (prefix: string) => `${prefix}:metrics:payment-service`;
/** The breaker state last reported by a scheduler process. */
export const paymentServiceCircuitKey = (prefix: string) =>
  `${prefix}:metrics:payment-service-circuit`;

/**
 * An observer that keeps the counts and the breaker state in Redis for `/metrics`. Best effort: a
 * Redis error loses a count, never a sweep.
 */
export function redisPaymentServiceObserver(
  redis: RedisClient,
  prefix: string,
): PaymentServiceObserver {
  return {
    call(outcome) {
      redis.hincrby(paymentServiceCallsKey(prefix), outcome, 1).catch(() => undefined);
    },
    circuit(state) {
      redis
        .set(paymentServiceCircuitKey(prefix), String(CIRCUIT_STATE_VALUES[state]))
        .catch(() => undefined);
    },
  };
}
