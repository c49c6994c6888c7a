import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from '../context.js';

/** Methods whose requests carry a body. */
export const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

class TooLarge extends Error {}

/**
 * Reads a Node request stream whole, refusing it as soon as it passes `maxBytes`. Plain 'data' and
 * 'end' listeners: an async iterator over the stream costs several times more per request.
 */
function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanUp();
        // Drain the rest unread, so the connection can still carry the 413.
        incoming.resume();
        reject(new TooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanUp();
      resolve(
        chunks.length === 1
          ? chunks[0]!.toString('utf8')
          : Buffer.concat(chunks, size).toString('utf8'),
      );
    };
    const onError = (error: Error) => {
      cleanUp();
      reject(error);
    };
    const cleanUp = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
  });
}

/**
 * Bounds every request body to `maxBytes` (else `onTooLarge`) and, when served by
 * @hono/node-server, reads it straight from the Node stream into Hono's body cache. Hono's own
 * `bodyLimit` and `c.req.json()` turn the request into a WHATWG Request with a web stream first,
 * which costs about as much as the rest of an enqueue request; handlers and validators still call
 * `c.req.json()` and get the cached text. Outside Node (`app.request` in tests) Hono's `bodyLimit`
 * does the job.
 */
export function readBody(
  maxBytes: number,
  onTooLarge: (c: Context<AppEnv>) => Response,
): MiddlewareHandler<AppEnv> {
  const fallback = bodyLimit({ maxSize: maxBytes, onError: onTooLarge });
  return async (c, next) => {
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (!incoming) return fallback(c, next);
    if (!WITH_BODY.has(c.req.method)) return next();
    const declared = Number(incoming.headers['content-length'] ?? 0);
    if (declared > maxBytes) return onTooLarge(c);
    let text: string;
    try {
      text = await readIncoming(incoming, maxBytes);
    } catch (error) {
      if (error instanceof TooLarge) return onTooLarge(c);
      throw error;
    }
    // Hono keeps promises in its body cache, though the type names the values.
    (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
    await next();
  };
}
