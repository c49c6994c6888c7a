import { Migration } from '@mikro-orm/migrations';

/**
 * Public codes: a CODE policy may have one code that any user redeems, kept as written (normalized)
 * for its responses and as a keyed hash for lookups. The unique index makes it unique among all
 * policies; only CODE policies may have one.
 */
export class Migration20261205PublicCodes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table coupon_policies
        add column public_code text,
        add column public_code_hash bytea,
        add constraint coupon_policies_public_code_code_only
          check ((public_code is null and public_code_hash is null) or issue_type = 'CODE')`);
    this.addSql(`
      create unique index coupon_policies_public_code_hash_key
        on coupon_policies (public_code_hash) where public_code_hash is not null`);
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists coupon_policies_public_code_hash_key');
    this.addSql(`
      alter table coupon_policies
        drop constraint if exists coupon_policies_public_code_code_only,
        drop column if exists public_code_hash,
        drop column if exists public_code`);
  }
}
