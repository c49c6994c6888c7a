import { defineConfig, MikroORM } from '@mikro-orm/postgresql';
import { ENTITIES } from './entities.js';
import { Migration20261125Initial } from './migrations/20261125-initial.js';
import { Migration20261125Payments } from './migrations/20261125-payments.js';
import { Migration20261202Audit } from './migrations/20261202-audit.js';
import { Migration20261202LockFences } from './migrations/20261202-lock-fences.js';
import { Migration20261202Reservations } from './migrations/20261202-reservations.js';
import { Migration20261205CodeBatches } from './migrations/20261205-code-batches.js';
import { Migration20261205Orders } from './migrations/20261205-orders.js';
import { Migration20261205PublicCodes } from './migrations/20261205-public-codes.js';
import { pgSsl } from './ssl.js';

/** Every migration, in order. Listed here rather than discovered so a bundled build finds them. */
export const MIGRATIONS = [
  { name: 'Migration20261125Initial', class: Migration20261125Initial },
  { name: 'Migration20261125Payments', class: Migration20261125Payments },
  { name: 'Migration20261202Reservations', class: Migration20261202Reservations },
  { name: 'Migration20261202Audit', class: Migration20261202Audit },
  { name: 'Migration20261202LockFences', class: Migration20261202LockFences },
  { name: 'Migration20261205Orders', class: Migration20261205Orders },
  { name: 'Migration20261205PublicCodes', class: Migration20261205PublicCodes },
  { name: 'Migration20261205CodeBatches', class: Migration20261205CodeBatches },
];

export interface OrmOptions {
  /** A `postgres://` URL; its `sslmode`, `sslrootcert`, `sslcert`, `sslkey` are honoured (see {@link pgSsl}). */
  databaseUrl: string;
  /** @defaultValue 10 */
  poolMax?: number;
}

export function ormConfig({ databaseUrl, poolMax = 10 }: OrmOptions) {
  const ssl = pgSsl(databaseUrl);
  return defineConfig({
    clientUrl: databaseUrl,
    entities: ENTITIES,
    migrations: {
      migrationsList: MIGRATIONS,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      tableName: 'mikro_orm_migrations',
      silent: true,
    },
    pool: { min: 0, max: poolMax },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    debug: false,
    // Connection errors must surface as errors, not as a hung first query.
    driverOptions: {
      connection: { connectionTimeoutMillis: 5000, ...(ssl === undefined ? {} : { ssl }) },
    },
  });
}

export type Orm = MikroORM;

export function createOrm(options: OrmOptions): Promise<Orm> {
  return MikroORM.init(ormConfig(options));
}

/**
 * Applies every pending migration; returns the names it applied. The migrator is loaded here, not
 * with the ORM: serving processes never need it (about 10 MB of modules).
 */
export async function migrate(orm: Orm): Promise<string[]> {
  const { Migrator } = await import('@mikro-orm/migrations');
  Migrator.register(orm);
  const applied = await orm.getMigrator().up();
  return applied.map((migration) => migration.name);
}
