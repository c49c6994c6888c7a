import { parseEnv } from '../config/env.js';
import { createOrm, migrate } from './orm.js';

// Run by the start command before any process starts, never by application start-up.
const env = parseEnv(process.env);
const orm = await createOrm({ databaseUrl: env.DATABASE_URL, poolMax: 1 });
try {
  const applied = await migrate(orm);
  console.log(
    applied.length ? `applied migrations: ${applied.join(', ')}` : 'database is up to date',
  );
} finally {
  await orm.close();
}
