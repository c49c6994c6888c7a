import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Context } from 'hono';
import proxyaddr from 'proxy-addr';

/** The address a request is counted against when it has no caller's id (rate limits). */
export type ClientAddress = (c: Context) => string;

/**
 * The client's address: the socket's peer, or, when that peer is one of `trustedProxies` (IPs,
 * CIDR ranges, or proxy-addr's `loopback`, `linklocal`, `uniquelocal`), the right-most address
 * of `X-Forwarded-For` that is not itself a trusted proxy (proxy-addr, as Express does). The
 * header of a peer that is not trusted is never read: anyone can write one. A key is always an
 * address: an entry that is not one counts as the proxy's own request.
 *
 * @param trustedProxies - the proxies in front of the service. @defaultValue none
 */
export function clientAddress(trustedProxies: readonly string[] = []): ClientAddress {
  const trusted = trustedProxies.length > 0 ? proxyaddr.compile([...trustedProxies]) : null;
  return (c) => {
    // `app.request()` (tests, other runtimes) has no socket.
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const peer = incoming?.socket?.remoteAddress;
    if (!incoming || peer === undefined) return 'unknown';
    if (!trusted?.(peer, 0)) return peer;
    const client = proxyaddr(incoming, trusted);
    // A trusted proxy that passed on something else than an address: the request is the proxy's.
    return isIP(client) ? client : peer;
  };
}
