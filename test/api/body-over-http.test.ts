import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS } from '../../src/api/app.js';
import { ADMIN, createStack, policyBody, type Stack } from '../support/stack.js';
import { authHeaders } from '../support/tokens.js';

/**
 * Bodies as @hono/node-server hands them over (the service reads the Node stream itself, which
 * `app.request` in the other tests never exercises): sized by Content-Length or sent chunked.
 */
describe('request bodies over real HTTP', () => {
  let stack: Stack;
  let server: ServerType;
  let port: number;
  beforeAll(async () => {
    stack = await createStack();
    server = serve({ fetch: stack.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stack.close();
  });

  /** POSTs `chunks` one write each; `chunked` leaves Content-Length out (Transfer-Encoding: chunked). */
  async function post(path: string, chunks: string[], chunked: boolean, type = 'application/json') {
    const headers: Record<string, string> = {
      ...(await authHeaders(...ADMIN)),
      'content-type': type,
    };
    if (!chunked) headers['content-length'] = String(Buffer.byteLength(chunks.join('')));
    return new Promise<{ status: number; body: { error?: { code: string; message: string } } }>(
      (resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, path, method: 'POST', headers },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (part: string) => {
              text += part;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          },
        );
        req.on('error', reject);
        for (const chunk of chunks) req.write(chunk);
        req.end();
      },
    );
  }

  it('answers with the security headers and a request id, over HTTP as through app.request', async () => {
    for (const path of ['/health', '/v1/nope', '/docs']) {
      const [overHttp, inProcess] = await Promise.all([
        fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'x-request-id': 'req-42' } }),
        stack.app.request(path, { headers: { 'x-request-id': 'req-42' } }),
      ]);
      for (const res of [overHttp, inProcess]) {
        for (const [name, value] of SECURITY_HEADERS) expect(res.headers.get(name)).toBe(value);
        expect(res.headers.get('x-request-id')).toBe('req-42');
      }
      expect(overHttp.status).toBe(inProcess.status);
    }
    // A header the route sets itself is kept.
    const docs = await fetch(`http://127.0.0.1:${port}/docs`);
    expect(docs.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  it.each([
    [false, 'with Content-Length'],
    [true, 'chunked'],
  ])('reads a valid JSON body (%s: %s)', async (chunked) => {
    const json = JSON.stringify(policyBody({ name: 'over http' }));
    const middle = Math.floor(json.length / 2);
    const res = await post('/v1/policies', [json.slice(0, middle), json.slice(middle)], chunked);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'over http' });
  });

  it.each([
    [false, 'with Content-Length'],
    [true, 'chunked'],
  ])('answers 413 for a body over 64 KiB (%s: %s)', async (chunked) => {
    const big = JSON.stringify(policyBody({ description: 'x'.repeat(70_000) }));
    const res = await post('/v1/policies', [big.slice(0, 40_000), big.slice(40_000)], chunked);
    expect(res.status).toBe(413);
    expect(res.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers 400 for malformed JSON and 415 for another media type', async () => {
    const broken = await post('/v1/policies', ['{"name": '], false);
    expect(broken.status).toBe(400);
    expect(broken.body.error?.code).toBe('VALIDATION_ERROR');
    const text = await post('/v1/policies', ['hello'], false, 'text/plain');
    expect(text.status).toBe(415);
    expect(text.body.error?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});
