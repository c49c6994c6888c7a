import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

/** A tool the TLS tests cannot run without: its absence fails them with one clear line. */
function requireTool(name: string, args: string[], hint: string): string {
  try {
    return execFileSync(name, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    throw new Error(`${name} is needed for the Redis TLS tests (${hint})`);
  }
}

export interface Certificates {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost, made by openssl. */
export function makeCertificates(dir: string): Certificates {
  requireTool('openssl', ['version'], "Debian's openssl package");
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=coupon test CA',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    at('server.key'),
    '-out',
    at('server.csr'),
  );
  writeFileSync(at('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    at('server.ext'),
    '-out',
    at('server.pem'),
  );
  return { dir, caFile: at('ca.pem'), certFile: at('server.pem'), keyFile: at('server.key') };
}

/** redis-server's TLS settings for `certificates`; clients need no certificate of their own. */
export function tlsServerArgs(certificates: Certificates): string[] {
  return [
    '--tls-cert-file',
    certificates.certFile,
    '--tls-key-file',
    certificates.keyFile,
    '--tls-ca-cert-file',
    certificates.caFile,
    '--tls-auth-clients',
    'no',
  ];
}

export interface TlsRedis {
  /** `rediss://127.0.0.1:<port>` */
  url: string;
  certificates: Certificates;
  stop(): Promise<void>;
}

/**
 * Debian's `redis-server` on a free loopback port speaking TLS only (`--port 0`), in a temp dir of
 * its own with certificates made for it; no persistence. Resolves once a TLS client gets PONG.
 */
export async function startTlsRedis(): Promise<TlsRedis> {
  const help = requireTool('redis-server', ['--version'], "Debian's redis-server package");
  if (!/v=(\d+)/.test(help) || Number(/v=(\d+)/.exec(help)?.[1]) < 6) {
    throw new Error(`redis-server 6 or later is needed for TLS, found: ${help.trim()}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'coupon-redis-tls-'));
  const certificates = makeCertificates(dir);
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--bind',
      '127.0.0.1',
      ...tlsServerArgs(certificates),
      '--save',
      '',
      // As the service requires of a Redis it accepts work on (REDIS_DURABILITY).
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'noeviction',
      '--dir',
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `rediss://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`redis-server with TLS exited (${child.exitCode}):\n${output.slice(-2000)}`);
    }
    const probe = new Redis(url, {
      tls: { ca: readFileSync(certificates.caFile, 'utf8') },
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return { url, certificates, stop };
    } catch {
      // Not listening yet.
    } finally {
      probe.disconnect();
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server with TLS did not answer within 10 s:\n${output.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
