import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceEnv, startService } from '../support/process.js';
import {
  createTestDatabase,
  services,
  type TestDatabase,
  uniqueName,
} from '../support/services.js';

/**
 * SIGTERM stops the program in order: stop accepting, let the workers finish the jobs they hold,
 * then let the outbox relay publish what those jobs wrote, then close the connections. A relay
 * stopped before the workers would leave the last jobs' events for the next start.
 */
describe('the shutdown of the program', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('stops the workers before the outbox relay, and the connections last', async () => {
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
});
