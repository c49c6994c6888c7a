import { apiError, CouponJobTimeoutError, type JobErrorCode } from './errors.js';
import { OPERATIONS, type OperationId, type Operations, type Schemas } from './generated.js';

export {
  type ApiErrorCode,
  CouponApiError,
  CouponJobTimeoutError,
  type JobErrorCode,
} from './errors.js';
export type { OperationId, Operations, Schemas } from './generated.js';

export type Policy = Schemas['Policy'];
export type NewPolicy = Schemas['NewPolicy'];
export type Coupon = Schemas['Coupon'];
export type Job = Schemas['Job'];
export type Accepted = Schemas['Accepted'];
export type IssuanceRequest = Schemas['IssuanceRequest'];
export type Order = Schemas['Order'];

/** A payment event a `PAYMENT` job applied. */
export interface PaymentOutcome {
  eventId: string;
  orderId: string;
  outcome: string;
  coupon: Coupon | null;
}

/** The result of an issuance or coupon action job: the coupon after the action. */
export interface CouponResult {
  coupon: Coupon;
}

export type CompletedJob<R = CouponResult | { payments: PaymentOutcome[] }> = Omit<
  Job,
  'state' | 'result' | 'error'
> & { state: 'completed'; result: R };
export type FailedJob = Omit<Job, 'state' | 'result' | 'error'> & {
  state: 'failed';
  error: { code: JobErrorCode; message: string };
};
/** A job at its end: completed with its result, or failed with a business or `INTERNAL` code. */
export type SettledJob<R = CouponResult | { payments: PaymentOutcome[] }> =
  | CompletedJob<R>
  | FailedJob;

export interface ClientOptions {
  /** Where the service answers, e.g. `https://coupons.internal`. */
  baseUrl: string;
  /** The bearer token, or a function giving the current one (called per request). */
  token?: string | (() => string | Promise<string>);
  /** @defaultValue the global `fetch` */
  fetch?: typeof fetch;
  /** Sent with every request (an `X-Request-Id` of your own, say). */
  headers?: Record<string, string>;
}

export interface SettleOptions {
  /** @defaultValue 30000 */
  timeoutMs?: number;
  /** First wait between polls, doubled up to 1 s. @defaultValue 50 */
  intervalMs?: number;
  signal?: AbortSignal;
}

/** Options of the job-creating calls. */
export interface JobOptions {
  /** The same key and body answer the same job, so a retried call never issues twice. */
  idempotencyKey?: string;
}

type Has<T, Name extends string, Required extends boolean> = [T] extends [never]
  ? unknown
  : Required extends true
    ? { [K in Name]: T }
    : { [K in Name]?: T };

/** What one operation takes: `path` and `body` when it has them, `query` and `headers` optional. */
export type RequestInput<K extends OperationId> = Has<Operations[K]['path'], 'path', true> &
  Has<Operations[K]['query'], 'query', false> &
  Has<Operations[K]['headers'], 'headers', false> &
  Has<Operations[K]['body'], 'body', true>;

/**
 * A job the service accepted (`202`): await it for `{jobId, statusUrl}`, or call `settled()` to
 * wait for its outcome.
 */
export class JobRequest<R> implements PromiseLike<Accepted> {
  constructor(
    private readonly client: CouponClient,
    private readonly accepted: Promise<Accepted>,
  ) {}

  // biome-ignore lint/suspicious/noThenProperty: awaiting the request gives the accepted job, on purpose.
  then<A = Accepted, B = never>(
    onFulfilled?: ((value: Accepted) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.accepted.then(onFulfilled, onRejected);
  }

  /**
   * Polls `GET /v1/jobs/:jobId` until the job is completed or failed. A failed job is a value
   * (`state: 'failed'`, `error.code`), not an exception; a job not settled within `timeoutMs`
   * throws {@link CouponJobTimeoutError}.
   */
  async settled({
    timeoutMs = 30_000,
    intervalMs = 50,
    signal,
  }: SettleOptions = {}): Promise<SettledJob<R>> {
    const { jobId } = await this.accepted;
    const deadline = Date.now() + timeoutMs;
    for (let wait = intervalMs; ; wait = Math.min(wait * 2, 1000)) {
      signal?.throwIfAborted();
      const job = await this.client.getJob(jobId);
      if (job.state === 'completed' || job.state === 'failed') return job as SettledJob<R>;
      const left = deadline - Date.now();
      if (left <= 0) throw new CouponJobTimeoutError(jobId, job.state, timeoutMs);
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, left)));
    }
  }
}

/**
 * A typed client of the coupon service: one method per operation of its `/openapi.json`, named by
 * the operation's `operationId`. Non-2xx answers throw {@link CouponApiError}.
 */
export class CouponClient {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Calls any operation by its id; the named methods below are this with friendlier arguments. */
  async request<K extends OperationId>(
    operationId: K,
    input: RequestInput<K>,
  ): Promise<Operations[K]['response']> {
    const operation = OPERATIONS[operationId];
    const given = input as {
      path?: Record<string, string>;
      query?: Record<string, string | number | undefined>;
      headers?: Record<string, string | undefined>;
      body?: unknown;
    };
    const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = given.path?.[name];
      if (value === undefined)
        throw new TypeError(`${operationId}: path parameter ${name} missing`);
      return encodeURIComponent(value);
    });
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(given.query ?? {})) {
      if (value !== undefined) query.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers };
    for (const [name, value] of Object.entries(given.headers ?? {})) {
      if (value !== undefined) headers[name] = value;
    }
    const token =
      typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (given.body !== undefined) headers['content-type'] = 'application/json';
    const search = query.toString() ? `?${query}` : '';
    const res = await this.fetch(`${this.baseUrl}${path}${search}`, {
      method: operation.method,
      headers,
      ...(given.body !== undefined && { body: JSON.stringify(given.body) }),
    });
    if (!(operation.answers as readonly number[]).includes(res.status)) throw await apiError(res);
    return (operation.text ? await res.text() : await res.json()) as Operations[K]['response'];
  }

  private job<K extends OperationId, R>(operationId: K, input: RequestInput<K>): JobRequest<R> {
    return new JobRequest<R>(this, this.request(operationId, input) as Promise<Accepted>);
  }

  private static keyed({ idempotencyKey }: JobOptions = {}) {
    return idempotencyKey === undefined ? {} : { headers: { 'Idempotency-Key': idempotencyKey } };
  }

  // Operations

  getHealth() {
    return this.request('getHealth', {});
  }

  /** `GET /ready`: answered with the checks whether the service is ready (200) or not (503). */
  getReadiness() {
    return this.request('getReadiness', {});
  }

  getMetrics() {
    return this.request('getMetrics', {});
  }

  createPolicy(body: Operations['createPolicy']['body']) {
    return this.request('createPolicy', { body });
  }

  listPolicies(query: Operations['listPolicies']['query'] = {}) {
    return this.request('listPolicies', { query });
  }

  getPolicy(policyId: string) {
    return this.request('getPolicy', { path: { policyId } });
  }

  changePolicyStatus(policyId: string, body: Operations['changePolicyStatus']['body']) {
    return this.request('changePolicyStatus', { path: { policyId }, body });
  }

  generateCodes(policyId: string, body: Operations['generateCodes']['body']) {
    return this.request('generateCodes', { path: { policyId }, body });
  }

  /** `POST …/code-batches`: the batch is made by a job; poll `getJob` for its progress. */
  createCodeBatch(policyId: string, body: Operations['createCodeBatch']['body']) {
    return this.request('createCodeBatch', { path: { policyId }, body });
  }

  /** A finished batch's codes as CSV text (header `code`, one code a line). */
  exportCodeBatch(policyId: string, batchId: string) {
    return this.request('exportCodeBatch', { path: { policyId, batchId } });
  }

  getPolicyStatistics(policyId: string) {
    return this.request('getPolicyStatistics', { path: { policyId } });
  }

  /** `POST /v1/issuances`; `await client.requestIssuance(...).settled()` waits for the coupon. */
  requestIssuance(body: IssuanceRequest, options?: JobOptions): JobRequest<CouponResult> {
    return this.job('requestIssuance', { body, ...CouponClient.keyed(options) });
  }

  /** {@link CouponClient.requestIssuance}, by its everyday name. */
  issue(body: IssuanceRequest, options?: JobOptions): JobRequest<CouponResult> {
    return this.requestIssuance(body, options);
  }

  getJob(jobId: string) {
    return this.request('getJob', { path: { jobId } });
  }

  listCoupons(query: Operations['listCoupons']['query'] = {}) {
    return this.request('listCoupons', { query });
  }

  getCoupon(couponId: string) {
    return this.request('getCoupon', { path: { couponId } });
  }

  getCouponHistory(couponId: string, query: Operations['getCouponHistory']['query'] = {}) {
    return this.request('getCouponHistory', { path: { couponId }, query });
  }

  listCouponReservations(
    couponId: string,
    query: Operations['listCouponReservations']['query'] = {},
  ) {
    return this.request('listCouponReservations', { path: { couponId }, query });
  }

  listAuditEntries(query: Operations['listAuditEntries']['query'] = {}) {
    return this.request('listAuditEntries', { query });
  }

  reserveCoupon(
    couponId: string,
    body: Operations['reserveCoupon']['body'],
    options?: JobOptions,
  ): JobRequest<CouponResult> {
    return this.job('reserveCoupon', { path: { couponId }, body, ...CouponClient.keyed(options) });
  }

  releaseCoupon(
    couponId: string,
    body: Operations['releaseCoupon']['body'],
    options?: JobOptions,
  ): JobRequest<CouponResult> {
    return this.job('releaseCoupon', { path: { couponId }, body, ...CouponClient.keyed(options) });
  }

  useCoupon(
    couponId: string,
    body: Operations['useCoupon']['body'],
    options?: JobOptions,
  ): JobRequest<CouponResult> {
    return this.job('useCoupon', { path: { couponId }, body, ...CouponClient.keyed(options) });
  }

  cancelCoupon(
    couponId: string,
    body: Operations['cancelCoupon']['body'],
    options?: JobOptions,
  ): JobRequest<CouponResult> {
    return this.job('cancelCoupon', { path: { couponId }, body, ...CouponClient.keyed(options) });
  }

  validateCoupon(couponId: string, body: Operations['validateCoupon']['body']) {
    return this.request('validateCoupon', { path: { couponId }, body });
  }

  /** `GET /v1/orders/:orderId`: its coupons, discount, payable amount and payment events. */
  getOrder(orderId: string) {
    return this.request('getOrder', { path: { orderId } });
  }
}

/** Methods that are another name for an operation's method, not operations of their own. */
export const ALIASES = { issue: 'requestIssuance' } as const satisfies Record<string, OperationId>;
