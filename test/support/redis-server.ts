import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

/** A Redis of the test's own, which it may kill and start again on the same port and data. */
export interface OwnRedis {
  url: string;
  /** Ends the server with `signal` (SIGKILL: as a crash) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and directory (its AOF, when on, is replayed). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Debian's `redis-server` on a free loopback port in a temp dir, with `args` (e.g. `--appendonly
 * yes`). Resolves once it answers PING.
 */
export async function startRedisServer(args: string[]): Promise<OwnRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'coupon-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess;
  let output = '';

  async function launch() {
    output = '';
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`redis-server exited (${child.exitCode}):\n${output.slice(-2000)}`);
      }
      const probe = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        // LOADING while the AOF is replayed: wait until it answers.
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        // Not listening, or still loading.
      } finally {
        probe.disconnect();
      }
      if (Date.now() > deadline) {
        throw new Error(`redis-server did not answer within 10 s:\n${output.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function kill(signal: NodeJS.Signals = 'SIGTERM') {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    }
  }

  await launch();
  return {
    url,
    kill,
    restart: launch,
    async stop() {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
