/**
 * Baseline of scenario 3: the least an enqueue endpoint can do on the same stack (Hono on
 * @hono/node-server, a BullMQ queue with the service's job options and Redis connection settings):
 * `queue.add` one job shaped like an issuance job, answer 202. No auth, no validation, no logging,
 * and the body is not read unless BARE_PARSE_BODY=1 (a second, informational baseline).
 * Env: REDIS_URL, QUEUE_PREFIX. Listens on a free loopback port and prints
 * `{"msg":"ready","port":N}`; SIGTERM closes it.
 */
import { randomUUID } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { parseEnv } from '../src/infra/config/env.js';
import type { IssueJobData } from '../src/infra/queue/jobs.js';
import { createQueues } from '../src/infra/queue/queues.js';
import { createClientRedis, waitForRedis } from '../src/infra/redis/connection.js';

const env = parseEnv({ REDIS_URL: process.env.REDIS_URL, QUEUE_PREFIX: process.env.QUEUE_PREFIX });
const redis = createClientRedis(env);
await waitForRedis(redis);
const queues = createQueues(redis, env);

const parseBody = process.env.BARE_PARSE_BODY === '1';
const app = new Hono();
app.post('/v1/issuances', async (c) => {
  // The body is read only with BARE_PARSE_BODY=1: on @hono/node-server, `c.req.json()` builds a
  // web Request and stream per request, which costs about as much as everything else here.
  const body = parseBody ? ((await c.req.json()) as { policyId?: string }) : {};
  const jobId = `iss_${randomUUID()}`;
  const data: IssueJobData = {
    type: 'ISSUE',
    actor: 'bare',
    userId: 'bare',
    policyId: body.policyId,
  };
  await queues.issuance.add('job', data, { jobId });
  return c.json({ jobId, statusUrl: `/v1/jobs/${jobId}` }, 202);
});

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
server.once('listening', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(JSON.stringify({ level: 30, msg: 'ready', port }));
});

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  server.close(() => {
    void queues
      .close()
      .then(() => redis.quit())
      .finally(() => process.exit(0));
  });
});
