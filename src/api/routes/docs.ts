import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import type { AppEnv } from '../context.js';
import { errorBody } from '../errors.js';

/** Served from the installed package: the docs page works without reaching any other host. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Coupon service API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>`;

// A file of its own, not inline, so the page keeps working under a strict Content-Security-Policy.
const INIT = "window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs' });";

/** `GET /docs`: interactive documentation of `/openapi.json`. */
export function docsRoutes() {
  const root = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const cache = new Map<string, Buffer>();
  const router = new Hono<AppEnv>();
  router.get('/docs', (c) => {
    c.header(
      'Content-Security-Policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
    );
    return c.html(PAGE);
  });
  router.get('/docs/init.js', (c) =>
    c.body(INIT, 200, { 'content-type': 'text/javascript; charset=utf-8' }),
  );
  router.get('/docs/assets/:file', async (c) => {
    const file = c.req.param('file');
    const type = ASSETS[file];
    if (!type) return c.json(errorBody('NOT_FOUND', 'No such asset'), 404);
    let content = cache.get(file);
    if (!content) {
      content = await readFile(join(root, file));
      cache.set(file, content);
    }
    return c.body(new Uint8Array(content), 200, {
      'content-type': type,
      'cache-control': 'public, max-age=86400',
    });
  });
  return router;
}
