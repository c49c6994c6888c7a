import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import { Hono } from 'hono';
import type { AppEnv } from '../context.js';
import { basicAuth } from '../middleware/basic-auth.js';

export const ADMIN_QUEUES_PATH = '/admin/queues';

/** bull-board over every queue, behind operator Basic auth. */
export function adminQueueRoutes({
  queues,
  user,
  password,
}: {
  queues: Queue[];
  user: string;
  password: string;
}) {
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(ADMIN_QUEUES_PATH);
  createBullBoard({ queues: queues.map((queue) => new BullMQAdapter(queue)), serverAdapter });
  const router = new Hono<AppEnv>();
  router.use(`${ADMIN_QUEUES_PATH}/*`, basicAuth(user, password));
  router.use(ADMIN_QUEUES_PATH, basicAuth(user, password));
  router.route(ADMIN_QUEUES_PATH, serverAdapter.registerPlugin());
  return router;
}
