import { Migration } from '@mikro-orm/migrations';

/**
 * The newest fencing token PostgreSQL has seen per lock resource (see `infra/db/fence.ts`): a write
 * done under the Redis lock raises its resource's row to its token before it commits, and one whose
 * token is older than the row's is refused with its transaction.
 */
export class Migration20261202LockFences extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table lock_fences (
        resource text primary key,
        token bigint not null check (token > 0)
      )`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists lock_fences');
  }
}
