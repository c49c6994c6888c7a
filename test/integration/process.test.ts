import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToExit, serviceEnv, startService } from '../support/process.js';
import {
  createTestDatabase,
  services,
  type TestDatabase,
  uniqueName,
} from '../support/services.js';

describe('the program', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('runs every role, is ready on the real services, and stops on SIGTERM within 10 s', async () => {
    const service = await startService({
      ...serviceEnv({ ...services(), databaseUrl: db.url }),
      QUEUE_PREFIX: uniqueName('test'),
      ROLES: 'all',
    });
    try {
      expect(service.baseUrl).toBeDefined();
      const health = await fetch(`${service.baseUrl}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${service.baseUrl}/ready`);
      expect(await ready.json()).toEqual({
        status: 'ok',
        checks: { postgres: 'up', redis: 'up', kafka: 'up' },
      });
      expect(ready.status).toBe(200);
      expect(ready.headers.get('x-request-id')).toBeTruthy();
      expect(ready.headers.get('x-content-type-options')).toBe('nosniff');
    } finally {
      const started = Date.now();
      const code = await service.stop('SIGTERM');
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
    }
  });

  it('serves one port from API_PROCESSES api processes, replaces one that dies, and stops them all', async () => {
    const service = await startService({
      ...serviceEnv({ ...services(), databaseUrl: db.url }),
      QUEUE_PREFIX: uniqueName('test'),
      ROLES: 'api,worker',
      API_PROCESSES: '2',
    });
    const linesOf = (msg: string) =>
      service.logs
        .filter((line) => line.includes(`"msg":"${msg}"`))
        .map((line) => JSON.parse(line) as { pid: number });
    const waitFor = async (what: string, done: () => boolean) => {
      const deadline = Date.now() + 15_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const primary = service.child.pid!;
    const apiPids = () => linesOf('api listening').map((line) => line.pid);
    const children = () =>
      execFileSync('ps', ['--ppid', String(primary), '-o', 'pid='], { encoding: 'utf8' })
        .split('\n')
        .map((line) => Number(line.trim()))
        .filter((pid) => apiPids().includes(pid));
    const allHealthy = async () => {
      for (let i = 0; i < 10; i++) {
        const res = await fetch(`${service.baseUrl}/health`);
        expect(res.status).toBe(200);
      }
    };
    let pids: number[] = [];
    try {
      // The api processes log their own `started`; wait for the primary's.
      await waitFor('the primary to start', () =>
        linesOf('started').some((l) => l.pid === primary),
      );
      // Each api process writes its own stdout: its `api listening` line can reach us after the
      // primary's `started`, which waited for both to listen.
      await waitFor('both api processes to log', () => children().length >= 2);
      pids = children();
      expect(pids).toHaveLength(2);
      expect(pids).not.toContain(primary);
      await allHealthy();
      process.kill(pids[0]!, 'SIGKILL');
      await waitFor(
        'a replacement api process',
        () => children().some((pid) => !pids.includes(pid)) && children().length >= 2,
      );
      await allHealthy();
      pids = children();
      expect(pids).toHaveLength(2);
    } finally {
      const started = Date.now();
      const code = await service.stop('SIGTERM');
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
    }
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  });

  it('stops the workers before the outbox relay, so its last flush publishes their jobs’ events', async () => {
    const service = await startService({
      ...serviceEnv({ ...services(), databaseUrl: db.url }),
      QUEUE_PREFIX: uniqueName('test'),
      ROLES: 'all',
    });
    expect(await service.stop('SIGTERM')).toBe(0);
    const steps = service.logs
      .filter((line) => line.includes('"msg":"stopping"'))
      .map((line) => (JSON.parse(line) as { step: string }).step);
    expect(steps).toEqual([
      'http server',
      'probes',
      'payment bridge',
      'dlq counter',
      'scheduler',
      'workers',
      'outbox relay',
      'queues',
      'redis',
      'postgres',
    ]);
  });

  it.each([
    ['PORT', 'not-a-port'],
    ['KAFKA_BROKERS', 'no-port-here'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['ROLES', 'api,cashier'],
  ])('refuses to start when %s is %s, naming the variable in one line', async (name, value) => {
    const { code, output } = await runToExit({ ...serviceEnv(services()), [name]: value });
    expect(code).not.toBe(0);
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(output).toContain(`Invalid environment variable ${name}:`);
  });

  it('refuses the development secrets in production', async () => {
    const { code, output } = await runToExit({ ...serviceEnv(services()), NODE_ENV: 'production' });
    expect(code).not.toBe(0);
    expect(output).toMatch(
      /Invalid environment variable (JWT_SECRET|CODE_HASH_SECRET|ADMIN_PASSWORD):/,
    );
  });
});
