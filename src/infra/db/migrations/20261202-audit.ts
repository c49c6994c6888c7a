import { Migration } from '@mikro-orm/migrations';

/**
 * What operators and admins changed, and who: policy creation and status changes, code generation,
 * coupon cancellations, bull-board's write actions. Kept for good (no retention prunes it); ids are
 * UUIDv7, so id order is time order and pages read the primary key backwards.
 */
export class Migration20261202Audit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table audit_log (
        id uuid primary key,
        actor text not null,
        action text not null,
        target text not null,
        request_id text,
        at timestamptz not null default now(),
        details jsonb not null default '{}'::jsonb
      )`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists audit_log');
  }
}
