import { expect } from 'vitest';
import { runToExit } from './process.js';
import { policyBody } from './stack.js';
import { authHeaders } from './tokens.js';

/** The fields of the API's answers the process tests read. */
export interface Reply {
  id: string;
  jobId: string;
  statusUrl: string;
  state: string;
  error?: { code: string };
  [field: string]: unknown;
}

export type Caller = (
  method: string,
  path: string,
  as: [string, 'admin' | 'user'],
  body?: unknown,
) => Promise<{ status: number; body: Reply }>;

/** Calls a running service over HTTP as a user or admin with a bearer token. */
export function httpCaller(baseUrl: string): Caller {
  return async (method, path, as, body) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: await authHeaders(...as),
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Reply };
  };
}

/** Polls a job's status URL as a client would, until it is completed or failed. */
export async function settledOverHttp(
  call: Caller,
  statusUrl: string,
  as: [string, 'admin' | 'user'],
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  let job = await call('GET', statusUrl, as);
  while (job.body.state !== 'completed' && job.body.state !== 'failed') {
    expect(Date.now(), `job ${statusUrl} settled`).toBeLessThan(deadline);
    await new Promise((resolve) => setTimeout(resolve, 100));
    job = await call('GET', statusUrl, as);
  }
  return job.body;
}

/** Through the running service: an admin makes a policy, alice asks for a coupon and gets it. */
export async function issueOneCoupon(baseUrl: string) {
  const call = httpCaller(baseUrl);
  const policy = await call('POST', '/v1/policies', ['admin-1', 'admin'], policyBody());
  expect(policy.status).toBe(201);
  const accepted = await call('POST', '/v1/issuances', ['alice', 'user'], {
    policyId: policy.body.id,
  });
  expect(accepted.status).toBe(202);
  const job = await settledOverHttp(call, accepted.body.statusUrl, ['alice', 'user']);
  expect(job).toMatchObject({
    state: 'completed',
    result: { coupon: { policyId: policy.body.id, userId: 'alice', status: 'ISSUED' } },
  });
  const ready = await fetch(`${baseUrl}/ready`);
  expect(await ready.json()).toMatchObject({ checks: { redis: 'up' } });
}

/** Start-up with a Redis certificate that does not verify: it stops at once, naming the problem. */
export async function expectCertificateRefused(env: Record<string, string>) {
  const started = Date.now();
  const { code, output } = await runToExit({ ...env, LOG_LEVEL: 'info' });
  expect(code).toBe(1);
  // Not the 5 s "did not answer" wait, and not a hang: a certificate failure is final.
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(output).toMatch(/Redis TLS connection failed: .*certificate/);
}
