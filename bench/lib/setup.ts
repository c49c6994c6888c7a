import { spawnSync } from 'node:child_process';
import { createOrm, migrate } from '../../src/infra/db/orm.js';
import { adminQuery, type BenchContext, log, withTimeout } from './context.js';
import { ROOT } from './proc.js';

/**
 * What every benchmark run does first: builds the service (its processes run `dist/main.js`, as
 * `scripts/start.sh` does), creates the run's database with the migrations, and checks Redis.
 */
export async function buildAndMigrate(ctx: BenchContext, stepLimitMs: number): Promise<void> {
  log(
    'building the service (npm run build): the processes run dist/main.js, as scripts/start.sh does',
  );
  const build = spawnSync('npm', ['run', 'build'], {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 180_000,
  });
  if (build.status !== 0) throw new Error(`npm run build failed (${build.status})`);
  await adminQuery(`create database "${ctx.dbName}"`);
  const orm = await createOrm({ databaseUrl: ctx.databaseUrl, poolMax: 2 });
  try {
    const applied = await migrate(orm);
    log(`database ${ctx.dbName}: ${applied.length} migrations applied`);
  } finally {
    await orm.close(true);
  }
  await withTimeout('Redis ping', ctx.redis.ping(), stepLimitMs);
}
