import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINISHED_JOB_AGE_S } from '../../src/infra/queue/queues.js';
import { createStack, type Stack, user } from '../support/stack.js';
import { TEST_CODE_SECRET } from '../support/tokens.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('Idempotency-Key records', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack();
  });
  afterAll(() => stack.close());

  const records = async () => {
    const keys = await stack.redis.keys(`${stack.env.QUEUE_PREFIX}:idem:*`);
    return Promise.all(
      keys.map(async (key) => ({
        key,
        value: await stack.redis.get(key),
        ttl: await stack.redis.ttl(key),
      })),
    );
  };

  it('live no longer than their job, and keep a keyed fingerprint, never a plain hash of the body', async () => {
    const body = { code: 'ABCDEFGHJKLM' };
    const first = await stack.request('POST', '/v1/issuances', user('ida'), body, {
      'Idempotency-Key': 'redeem-1',
    });
    expect(first.status).toBe(202);
    const [record] = await records();
    // Written when the job was added, it expires before the job, kept a day after it finishes.
    expect(record?.ttl).toBeGreaterThan(FINISHED_JOB_AGE_S - 60);
    expect(record?.ttl).toBeLessThanOrEqual(FINISHED_JOB_AGE_S);
    const value = record?.value ?? '';
    for (const plain of [sha256(JSON.stringify(body)), sha256(body.code), body.code]) {
      expect(value).not.toContain(plain);
    }
    expect(value).toBe(
      `hmac:${createHmac('sha256', TEST_CODE_SECRET).update('idempotency-fingerprint\n').update(JSON.stringify(body)).digest('hex')}`,
    );

    const again = await stack.request('POST', '/v1/issuances', user('ida'), body, {
      'Idempotency-Key': 'redeem-1',
    });
    expect(again).toMatchObject({ status: 202, body: { jobId: first.body.jobId } });
    const other = await stack.request(
      'POST',
      '/v1/issuances',
      user('ida'),
      { code: 'ZZZZZZZZZZZZ' },
      {
        'Idempotency-Key': 'redeem-1',
      },
    );
    expect(other.status).toBe(409);
  });

  it('still matches a record written before fingerprints were keyed', async () => {
    const before = new Set((await records()).map((r) => r.key));
    const body = { code: 'MMMMMMMMMMMM' };
    const first = await stack.request('POST', '/v1/issuances', user('olga'), body, {
      'Idempotency-Key': 'old-1',
    });
    const record = (await records()).find((r) => !before.has(r.key));
    expect(record).toBeDefined();
    // As the former code wrote it: a bare SHA-256 of the canonical body.
    await stack.redis.set(record?.key as string, sha256(JSON.stringify(body)), 'KEEPTTL');
    const again = await stack.request('POST', '/v1/issuances', user('olga'), body, {
      'Idempotency-Key': 'old-1',
    });
    expect(again).toMatchObject({ status: 202, body: { jobId: first.body.jobId } });
    const other = await stack.request(
      'POST',
      '/v1/issuances',
      user('olga'),
      { code: 'NNNNNNNNNNNN' },
      {
        'Idempotency-Key': 'old-1',
      },
    );
    expect(other.status).toBe(409);
  });
});
