import { Migration } from '@mikro-orm/migrations';

/**
 * Code batches: a CODE policy's codes made by a job in chunks. The batch row records how many are
 * done (committed with each chunk, so a retried job goes on from there); its codes' plaintext is kept
 * encrypted, one row per code numbered from 1, until the export expires.
 */
export class Migration20261205CodeBatches extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table code_batches (
        id uuid primary key,
        policy_id uuid not null references coupon_policies (id),
        count integer not null check (count >= 1),
        prefix text not null default '',
        length integer not null check (length between 8 and 24),
        done integer not null default 0,
        actor text not null,
        created_at timestamptz not null default now(),
        completed_at timestamptz,
        export_expires_at timestamptz,
        constraint code_batches_done check (done between 0 and count)
      )`);
    this.addSql('create index code_batches_policy on code_batches (policy_id)');
    this.addSql(
      'create index code_batches_export_expires on code_batches (export_expires_at) where export_expires_at is not null',
    );
    this.addSql(`
      create table code_batch_codes (
        batch_id uuid not null references code_batches (id),
        seq integer not null,
        iv bytea not null,
        sealed bytea not null,
        primary key (batch_id, seq)
      )`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists code_batch_codes');
    this.addSql('drop table if exists code_batches');
  }
}
