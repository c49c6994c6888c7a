/**
 * Baseline of scenario 1: a BullMQ worker that does nothing, to measure what the queue itself can
 * carry in one process. Env: REDIS_URL, QUEUE_PREFIX, QUEUE_NAME, CONCURRENCY (default 50).
 * Prints `{"msg":"ready"}` once connected; SIGTERM closes it.
 */
import { Worker } from 'bullmq';
import { parseEnv } from '../src/infra/config/env.js';
import { createWorkerRedis } from '../src/infra/redis/connection.js';

const connection = createWorkerRedis(parseEnv({ REDIS_URL: process.env.REDIS_URL }));
const worker = new Worker(process.env.QUEUE_NAME ?? 'issuance', async () => undefined, {
  connection,
  prefix: process.env.QUEUE_PREFIX ?? 'bench',
  concurrency: Number(process.env.CONCURRENCY ?? 50),
});
worker.on('error', (error) => console.error(JSON.stringify({ level: 50, msg: String(error) })));
await worker.waitUntilReady();
console.log(JSON.stringify({ level: 30, msg: 'ready' }));

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void worker
    .close()
    .then(() => connection.quit())
    .finally(() => process.exit(0));
});
