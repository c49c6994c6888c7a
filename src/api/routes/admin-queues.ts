import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import { type Context, Hono } from 'hono';
import type { AppEnv } from '../context.js';
import { basicAuth } from '../middleware/basic-auth.js';
import { WITH_BODY } from '../middleware/body.js';

export const ADMIN_QUEUES_PATH = '/admin/queues';

/**
 * bull-board over every queue, behind operator Basic auth, mounted on `app` as an app of its own
 * behind one catch-all route. Merged into the service's router, its routes (`:queueName/metrics`
 * beside `:queueName/:jobId/logs`) are more than Hono's RegExpRouter takes, and every request of
 * the service would be matched by the slower TrieRouter instead.
 */
export function mountAdminQueues(
  app: Hono<AppEnv>,
  { queues, user, password }: { queues: Queue[]; user: string; password: string },
): void {
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(ADMIN_QUEUES_PATH);
  createBullBoard({ queues: queues.map((queue) => new BullMQAdapter(queue)), serverAdapter });
  const admin = new Hono<AppEnv>();
  admin.route(ADMIN_QUEUES_PATH, serverAdapter.registerPlugin());
  // Errors are the service's to answer, in the contract's shape.
  admin.onError((error) => {
    throw error;
  });
  const forward = async (c: Context<AppEnv>) => {
    const raw = c.req.raw;
    // The service read the body already (`readBody`): it goes on as text.
    const request = WITH_BODY.has(raw.method)
      ? new Request(raw.url, { method: raw.method, headers: raw.headers, body: await c.req.text() })
      : raw;
    return admin.fetch(request, c.env);
  };
  const auth = basicAuth(user, password);
  app.use(ADMIN_QUEUES_PATH, auth);
  app.use(`${ADMIN_QUEUES_PATH}/*`, auth);
  app.all(ADMIN_QUEUES_PATH, forward);
  app.all(`${ADMIN_QUEUES_PATH}/*`, forward);
}
