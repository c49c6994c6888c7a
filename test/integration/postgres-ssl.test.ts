import { describe, expect, it } from 'vitest';
import { createOrm } from '../../src/infra/db/orm.js';
import { services } from '../support/services.js';

/**
 * The test PostgreSQL serves plain TCP only (`ssl = off`), which tells whether `sslmode` reached the
 * driver: `disable` connects, and every mode that asks for TLS is refused by the server.
 */
describe("DATABASE_URL's sslmode on a real PostgreSQL", () => {
  const withMode = (mode: string) => {
    const url = new URL(services().databaseUrl);
    url.pathname = '/postgres';
    url.searchParams.set('sslmode', mode);
    return url.toString();
  };

  it('sslmode=disable connects over plain TCP', async () => {
    const orm = await createOrm({ databaseUrl: withMode('disable'), poolMax: 1 });
    try {
      const rows = await orm.em
        .fork()
        .getConnection()
        .execute('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
      expect(rows).toEqual([{ ssl: false }]);
    } finally {
      await orm.close(true);
    }
  });

  it.each(['require', 'verify-ca', 'verify-full'])(
    'sslmode=%s asks the server for TLS (this one has none)',
    async (mode) => {
      await expect(createOrm({ databaseUrl: withMode(mode), poolMax: 1 })).rejects.toThrow(
        'The server does not support SSL connections',
      );
    },
  );
});
