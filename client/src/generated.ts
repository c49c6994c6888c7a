// Generated from the service's /openapi.json by `npm run client:generate`: do not edit.
// test/api/client-drift.test.ts fails when this file and the document disagree.

/** Every component schema of the document. */
export interface Schemas {
  /** Repeats with the same key and body answer the same job. */
  IdempotencyKey: string;
  Readiness: {
    status: 'ok' | 'unavailable';
    checks: { [key: string]: 'up' | 'down' };
    reasons?: { [key: string]: string };
    error?: { code: string; message: string };
  };
  Policy: {
    id: string;
    name: string;
    description: string | null;
    discountType: 'FIXED_AMOUNT' | 'PERCENTAGE';
    discountValue: number;
    maxDiscountAmount: number | null;
    minOrderAmount: number;
    issueType: 'DIRECT' | 'CODE';
    totalQuantity: number;
    perUserLimit: number;
    validFrom: string;
    validUntil: string;
    validDaysAfterIssue: number | null;
    status: 'ACTIVE' | 'INACTIVE';
    issuedCount: number;
    stacking: 'EXCLUSIVE' | 'STACKABLE';
    budget: number | null;
    publicCode: string | null;
    createdAt: string;
  };
  Error: { error: { code: string; message: string; details?: unknown } };
  NewPolicy: {
    name: string;
    description?: string | null;
    discountType: 'FIXED_AMOUNT' | 'PERCENTAGE';
    discountValue: number;
    maxDiscountAmount?: number | null;
    minOrderAmount?: number;
    issueType: 'DIRECT' | 'CODE';
    totalQuantity: number;
    perUserLimit?: number;
    validFrom: string;
    validUntil: string;
    validDaysAfterIssue?: number | null;
    stacking?: 'EXCLUSIVE' | 'STACKABLE';
    budget?: number | null;
    publicCode?: string | null;
  };
  PolicyStatusChange: { status: 'ACTIVE' | 'INACTIVE' };
  Codes: { codes: Array<string> };
  CodeRequest: { count: number };
  CodeBatchAccepted: { batchId: string; jobId: string; statusUrl: string };
  CodeBatchRequest: { count: number; prefix?: string; length?: number };
  PolicyStatistics: {
    policyId: string;
    totalQuantity: number;
    issuedCount: number;
    reservedCount: number;
    usedCount: number;
    expiredCount: number;
    cancelledCount: number;
    remainingQuantity: number;
    usageRate: number;
    totalDiscountAmount: number;
    budget: number | null;
    budgetSpent: number;
    budgetRemaining: number | null;
  };
  Accepted: { jobId: string; statusUrl: string };
  /** DIRECT policies: `{policyId, userId?}` (userId for admins). CODE: `{code}`. */
  IssuanceRequest: { policyId: string; userId?: string } | { code: string };
  Job: {
    jobId: string;
    type: 'ISSUE' | 'RESERVE' | 'USE' | 'RELEASE' | 'CANCEL' | 'PAYMENT' | 'CODE_BATCH';
    state: 'waiting' | 'active' | 'delayed' | 'completed' | 'failed';
    result?:
      | { coupon: { [key: string]: unknown } }
      | {
          payments: Array<{
            eventId: string;
            orderId: string;
            outcome: string;
            coupon: { [key: string]: unknown } | null;
          }>;
        }
      | { batchId: string; done: number; total: number };
    progress?: { done: number; total: number };
    error?: { code: string; message: string };
    createdAt: string;
    finishedAt: string | null;
  };
  Coupon: {
    id: string;
    policyId: string;
    userId: string;
    status: 'ISSUED' | 'RESERVED' | 'USED' | 'EXPIRED' | 'CANCELLED';
    issuedAt: string;
    expiresAt: string;
    usedAt: string | null;
    orderId: string | null;
    discountAmount: number | null;
  };
  CouponHistory: {
    nextCursor: string | null;
    items: Array<{
      from: 'ISSUED' | 'RESERVED' | 'USED' | 'EXPIRED' | 'CANCELLED' | null;
      to: 'ISSUED' | 'RESERVED' | 'USED' | 'EXPIRED' | 'CANCELLED';
      actor: string;
      reason: string | null;
      at: string;
    }>;
  };
  CouponReservations: { nextCursor: string | null; items: Array<Schemas['CouponReservation']> };
  CouponReservation: {
    id: string;
    couponId: string;
    orderId: string;
    userId: string;
    orderAmount: number | null;
    discountAmount: number;
    state: 'ACTIVE' | 'CONFIRMED' | 'RELEASED' | 'TIMED_OUT' | 'CANCELLED';
    reservedAt: string;
    expiresAt: string;
    closedAt: string | null;
    closedBy: string | null;
    reason: string | null;
  };
  AuditEntry: {
    id: string;
    actor: string;
    action: string;
    target: string;
    requestId: string | null;
    at: string;
    details: { [key: string]: unknown };
  };
  OrderAction: { orderId: string; orderAmount: number };
  ReleaseAction: { orderId: string };
  CancelAction: { reason: string };
  CouponValidation: {
    valid: boolean;
    discountAmount?: number;
    payableAmount?: number;
    reason?: string;
  };
  ValidateRequest: { orderAmount: number; orderId?: string };
  Order: {
    orderId: string;
    userId: string;
    orderAmount: number;
    coupons: Array<{
      couponId: string;
      policyId: string;
      status: 'ISSUED' | 'RESERVED' | 'USED' | 'EXPIRED' | 'CANCELLED';
      discountAmount: number;
    }>;
    totalDiscountAmount: number;
    payableAmount: number;
    payments: Array<{
      eventId: string;
      type: 'PAYMENT_COMPLETED' | 'PAYMENT_FAILED' | 'PAYMENT_CANCELLED' | 'PAYMENT_REFUNDED';
      amount: number;
      outcome: string | null;
      at: string;
    }>;
  };
}

/** Per operation: its path, query, header and body inputs, and its answers. */
export interface Operations {
  /** GET /health: Liveness: 200 while the process lives */
  getHealth: {
    path: never;
    query: never;
    headers: never;
    body: never;
    response: { status: 'ok' };
  };
  /** GET /ready: Readiness: PostgreSQL, Redis and Kafka each answer */
  getReadiness: {
    path: never;
    query: never;
    headers: never;
    body: never;
    response: Schemas['Readiness'];
  };
  /** GET /metrics: Prometheus metrics: HTTP, jobs, queue depth, outbox backlog, Kafka lag, process */
  getMetrics: {
    path: never;
    query: never;
    headers: never;
    body: never;
    response: string;
  };
  /** GET /v1/policies: List policies, newest first */
  listPolicies: {
    path: never;
    query: { limit?: number; cursor?: string };
    headers: never;
    body: never;
    response: { items: Array<Schemas['Policy']>; nextCursor: string | null };
  };
  /** POST /v1/policies: Create a coupon policy (admin) */
  createPolicy: {
    path: never;
    query: never;
    headers: never;
    body: Schemas['NewPolicy'];
    response: Schemas['Policy'];
  };
  /** GET /v1/policies/{policyId}: Get a policy */
  getPolicy: {
    path: { policyId: string };
    query: never;
    headers: never;
    body: never;
    response: Schemas['Policy'];
  };
  /** PATCH /v1/policies/{policyId}: Activate or deactivate a policy (admin) */
  changePolicyStatus: {
    path: { policyId: string };
    query: never;
    headers: never;
    body: Schemas['PolicyStatusChange'];
    response: Schemas['Policy'];
  };
  /** POST /v1/policies/{policyId}/codes: Generate single-use codes for a CODE policy (admin); plaintext returned once */
  generateCodes: {
    path: { policyId: string };
    query: never;
    headers: never;
    body: Schemas['CodeRequest'];
    response: Schemas['Codes'];
  };
  /** POST /v1/policies/{policyId}/code-batches: Generate up to 1,000,000 codes for a CODE policy in a job (admin); export them as CSV */
  createCodeBatch: {
    path: { policyId: string };
    query: never;
    headers: never;
    body: Schemas['CodeBatchRequest'];
    response: Schemas['CodeBatchAccepted'];
  };
  /** GET /v1/policies/{policyId}/code-batches/{batchId}/codes.csv: A finished code batch’s codes as CSV (admin), streamed; kept CODE_EXPORT_TTL_HOURS */
  exportCodeBatch: {
    path: { policyId: string; batchId: string };
    query: never;
    headers: never;
    body: never;
    response: string;
  };
  /** GET /v1/policies/{policyId}/statistics: Counts of the policy’s coupons by status (admin), served from a cache kept current */
  getPolicyStatistics: {
    path: { policyId: string };
    query: never;
    headers: never;
    body: never;
    response: Schemas['PolicyStatistics'];
  };
  /** POST /v1/issuances: Ask for a coupon; answered 202 with a job to poll */
  requestIssuance: {
    path: never;
    query: never;
    headers: { 'Idempotency-Key'?: Schemas['IdempotencyKey'] };
    body: Schemas['IssuanceRequest'];
    response: Schemas['Accepted'];
  };
  /** GET /v1/jobs/{jobId}: The state and outcome of an asynchronous job */
  getJob: {
    path: { jobId: string };
    query: never;
    headers: never;
    body: never;
    response: Schemas['Job'];
  };
  /** GET /v1/coupons: The caller's coupons (admins: any user's, or all), newest first */
  listCoupons: {
    path: never;
    query: {
      limit?: number;
      cursor?: string;
      userId?: string;
      status?: 'ISSUED' | 'RESERVED' | 'USED' | 'EXPIRED' | 'CANCELLED';
    };
    headers: never;
    body: never;
    response: { items: Array<Schemas['Coupon']>; nextCursor: string | null };
  };
  /** GET /v1/coupons/{couponId}: A coupon (owner or admin) */
  getCoupon: {
    path: { couponId: string };
    query: never;
    headers: never;
    body: never;
    response: Schemas['Coupon'];
  };
  /** GET /v1/coupons/{couponId}/history: Every status change of a coupon, oldest first, in pages */
  getCouponHistory: {
    path: { couponId: string };
    query: { limit?: number; cursor?: string };
    headers: never;
    body: never;
    response: Schemas['CouponHistory'];
  };
  /** GET /v1/coupons/{couponId}/reservations: A coupon's reservations, oldest first, in pages (owner or admin) */
  listCouponReservations: {
    path: { couponId: string };
    query: { limit?: number; cursor?: string };
    headers: never;
    body: never;
    response: Schemas['CouponReservations'];
  };
  /** GET /v1/audit: The audit log of state-changing admin actions (admin), newest first */
  listAuditEntries: {
    path: never;
    query: { limit?: number; cursor?: string };
    headers: never;
    body: never;
    response: { items: Array<Schemas['AuditEntry']>; nextCursor: string | null };
  };
  /** POST /v1/coupons/{couponId}/reserve: Reserve the coupon for an order (ISSUED → RESERVED) */
  reserveCoupon: {
    path: { couponId: string };
    query: never;
    headers: { 'Idempotency-Key'?: Schemas['IdempotencyKey'] };
    body: Schemas['OrderAction'];
    response: Schemas['Accepted'];
  };
  /** POST /v1/coupons/{couponId}/release: Give a reservation back (RESERVED → ISSUED) */
  releaseCoupon: {
    path: { couponId: string };
    query: never;
    headers: { 'Idempotency-Key'?: Schemas['IdempotencyKey'] };
    body: Schemas['ReleaseAction'];
    response: Schemas['Accepted'];
  };
  /** POST /v1/coupons/{couponId}/use: Use the coupon (ISSUED or RESERVED → USED) */
  useCoupon: {
    path: { couponId: string };
    query: never;
    headers: { 'Idempotency-Key'?: Schemas['IdempotencyKey'] };
    body: Schemas['OrderAction'];
    response: Schemas['Accepted'];
  };
  /** POST /v1/coupons/{couponId}/cancel: Cancel the coupon (admin; ISSUED/RESERVED → CANCELLED) */
  cancelCoupon: {
    path: { couponId: string };
    query: never;
    headers: { 'Idempotency-Key'?: Schemas['IdempotencyKey'] };
    body: Schemas['CancelAction'];
    response: Schemas['Accepted'];
  };
  /** POST /v1/coupons/{couponId}/validate: Dry run: would this coupon apply to this order, and for how much? */
  validateCoupon: {
    path: { couponId: string };
    query: never;
    headers: never;
    body: Schemas['ValidateRequest'];
    response: Schemas['CouponValidation'];
  };
  /** GET /v1/orders/{orderId}: An order's coupons, discount, payable amount and payment events */
  getOrder: {
    path: { orderId: string };
    query: never;
    headers: never;
    body: never;
    response: Schemas['Order'];
  };
}

/** How each operation is called: its method, path template and the statuses that answer it. */
export const OPERATIONS = {
  getHealth: { method: 'GET', path: '/health', answers: [200], text: false },
  getReadiness: { method: 'GET', path: '/ready', answers: [200, 503], text: false },
  getMetrics: { method: 'GET', path: '/metrics', answers: [200], text: true },
  listPolicies: { method: 'GET', path: '/v1/policies', answers: [200], text: false },
  createPolicy: { method: 'POST', path: '/v1/policies', answers: [201], text: false },
  getPolicy: { method: 'GET', path: '/v1/policies/{policyId}', answers: [200], text: false },
  changePolicyStatus: {
    method: 'PATCH',
    path: '/v1/policies/{policyId}',
    answers: [200],
    text: false,
  },
  generateCodes: {
    method: 'POST',
    path: '/v1/policies/{policyId}/codes',
    answers: [201],
    text: false,
  },
  createCodeBatch: {
    method: 'POST',
    path: '/v1/policies/{policyId}/code-batches',
    answers: [202],
    text: false,
  },
  exportCodeBatch: {
    method: 'GET',
    path: '/v1/policies/{policyId}/code-batches/{batchId}/codes.csv',
    answers: [200],
    text: true,
  },
  getPolicyStatistics: {
    method: 'GET',
    path: '/v1/policies/{policyId}/statistics',
    answers: [200],
    text: false,
  },
  requestIssuance: { method: 'POST', path: '/v1/issuances', answers: [202], text: false },
  getJob: { method: 'GET', path: '/v1/jobs/{jobId}', answers: [200], text: false },
  listCoupons: { method: 'GET', path: '/v1/coupons', answers: [200], text: false },
  getCoupon: { method: 'GET', path: '/v1/coupons/{couponId}', answers: [200], text: false },
  getCouponHistory: {
    method: 'GET',
    path: '/v1/coupons/{couponId}/history',
    answers: [200],
    text: false,
  },
  listCouponReservations: {
    method: 'GET',
    path: '/v1/coupons/{couponId}/reservations',
    answers: [200],
    text: false,
  },
  listAuditEntries: { method: 'GET', path: '/v1/audit', answers: [200], text: false },
  reserveCoupon: {
    method: 'POST',
    path: '/v1/coupons/{couponId}/reserve',
    answers: [202],
    text: false,
  },
  releaseCoupon: {
    method: 'POST',
    path: '/v1/coupons/{couponId}/release',
    answers: [202],
    text: false,
  },
  useCoupon: { method: 'POST', path: '/v1/coupons/{couponId}/use', answers: [202], text: false },
  cancelCoupon: {
    method: 'POST',
    path: '/v1/coupons/{couponId}/cancel',
    answers: [202],
    text: false,
  },
  validateCoupon: {
    method: 'POST',
    path: '/v1/coupons/{couponId}/validate',
    answers: [200],
    text: false,
  },
  getOrder: { method: 'GET', path: '/v1/orders/{orderId}', answers: [200], text: false },
} as const;

export type OperationId = keyof Operations;
