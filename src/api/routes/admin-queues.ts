import type { Queue } from 'bullmq';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import type { AuditEntry } from '../../app/ports.js';
import { textProblem, textProblemMessage } from '../../domain/text.js';
import type { AppEnv } from '../context.js';
import { ApiError, errorBody } from '../errors.js';
import { basicAuth } from '../middleware/basic-auth.js';
import { WITH_BODY } from '../middleware/read-body.js';

export const ADMIN_QUEUES_PATH = '/admin/queues';

const SAFE_METHODS = new Set(['GET', 'HEAD']);
const QUEUE_IN_PATH = /^\/admin\/queues\/api\/queues\/([^/]+)\//;
const OWN_FETCH_SITES = new Set(['same-origin', 'none']);

/**
 * A browser that holds the operator's Basic credentials sends them with any page's request, so a
 * state-changing request must come from the service's own pages: an `Origin` of another host, or a
 * `Sec-Fetch-Site` other than same-origin/none, is refused (403). Requests with neither header
 * (scripts, curl) are not a browser's cross-site request and pass.
 */
export const sameOriginWrites: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!SAFE_METHODS.has(c.req.method)) {
    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    if (site !== undefined && !OWN_FETCH_SITES.has(site.toLowerCase())) {
      throw new ApiError(
        'FORBIDDEN',
        'Operator actions are accepted from this service’s own pages only',
      );
    }
    if (origin !== undefined && hostOf(origin) !== new URL(c.req.url).host) {
      throw new ApiError(
        'FORBIDDEN',
        'Operator actions are accepted from this service’s own pages only',
      );
    }
  }
  await next();
};

/** The path as sent, percent-encoded: decoding it is ours to do, once. */
const rawPath = (c: Context<AppEnv>) => new URL(c.req.url).pathname;

/**
 * A path whose percent-encoding does not decode to storable text (`%ZZ`, a cut or overlong UTF-8
 * sequence, NUL or another control character) names no queue or job: 400, before bull-board or the
 * audit log sees it.
 */
export const wellFormedPath: MiddlewareHandler<AppEnv> = async (c, next) => {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath(c));
  } catch {
    throw new ApiError('VALIDATION_ERROR', 'The path is not valid percent-encoded UTF-8');
  }
  const problem = textProblem(decoded);
  if (problem) {
    throw new ApiError('VALIDATION_ERROR', `The path ${textProblemMessage(problem)}`);
  }
  await next();
};

function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host || null;
  } catch {
    // `Origin: null` (a sandboxed or file page) and anything malformed are never our own.
    return null;
  }
}

/** bull-board over `queues`, as an app of its own whose errors are the service's to answer. */
async function bullBoardApp(queues: Queue[], readOnly: boolean): Promise<Hono<AppEnv>> {
  const [{ createBullBoard }, { BullMQAdapter }, { HonoAdapter }, { serveStatic }] =
    await Promise.all([
      import('@bull-board/api'),
      import('@bull-board/api/bullMQAdapter'),
      import('@bull-board/hono'),
      import('@hono/node-server/serve-static'),
    ]);
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(ADMIN_QUEUES_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: readOnly })),
    serverAdapter,
  });
  const admin = new Hono<AppEnv>();
  admin.route(ADMIN_QUEUES_PATH, serverAdapter.registerPlugin());
  admin.notFound((c) => c.json(errorBody('NOT_FOUND', 'No such route'), 404));
  admin.onError((error) => {
    throw error;
  });
  return admin;
}

/**
 * bull-board over every queue, behind operator Basic auth, mounted on `app` as an app of its own
 * behind one catch-all route. Merged into the service's router, its routes (`:queueName/metrics`
 * beside `:queueName/:jobId/logs`) are more than Hono's RegExpRouter takes, and every request of
 * the service would be matched by the slower TrieRouter instead. bull-board loads on the first
 * operator request: an api process that serves none never holds it in memory.
 */
export function mountAdminQueues(
  app: Hono<AppEnv>,
  {
    queues,
    user,
    password,
    readOnly = false,
    audit,
  }: {
    queues: Queue[];
    user: string;
    password: string;
    /** bull-board's read-only mode: no job or queue can be changed from it. @defaultValue false */
    readOnly?: boolean;
    /**
     * Records a write action before bull-board carries it out: an action whose record cannot be
     * written is not carried out.
     */
    audit?: (entry: AuditEntry) => Promise<void>;
  },
): void {
  let board: Promise<Hono<AppEnv>> | undefined;
  const forward = async (c: Context<AppEnv>) => {
    const raw = c.req.raw;
    if (audit && !SAFE_METHODS.has(raw.method)) {
      // `wellFormedPath` has checked that the path decodes.
      const path = rawPath(c);
      const queue = QUEUE_IN_PATH.exec(path)?.[1];
      await audit({
        actor: `operator:${user}`,
        action: 'queues.write',
        target: queue ? `queue:${decodeURIComponent(queue)}` : 'queues',
        requestId: c.get('requestId'),
        details: { method: raw.method, path: path.slice(ADMIN_QUEUES_PATH.length) },
      });
    }
    // The service read the body already (`readBody`): it goes on as text.
    const request = WITH_BODY.has(raw.method)
      ? new Request(raw.url, { method: raw.method, headers: raw.headers, body: await c.req.text() })
      : raw;
    board ??= bullBoardApp(queues, readOnly).catch((error: unknown) => {
      board = undefined;
      throw error;
    });
    return (await board).fetch(request, c.env);
  };
  const auth = basicAuth(user, password);
  for (const path of [ADMIN_QUEUES_PATH, `${ADMIN_QUEUES_PATH}/*`]) {
    app.use(path, sameOriginWrites);
    app.use(path, auth);
    app.use(path, wellFormedPath);
  }
  app.all(ADMIN_QUEUES_PATH, forward);
  app.all(`${ADMIN_QUEUES_PATH}/*`, forward);
}
