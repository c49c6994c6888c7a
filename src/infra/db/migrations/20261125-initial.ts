import { Migration } from '@mikro-orm/migrations';

/**
 * The first schema. The constraints are the last line of defence behind the workers' logic: even a
 * buggy worker cannot issue past the quota, give a user more than their limit, or redeem a code twice.
 */
export class Migration20261125Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table coupon_policies (
        id uuid primary key,
        name text not null,
        description text,
        discount_type text not null check (discount_type in ('FIXED_AMOUNT', 'PERCENTAGE')),
        discount_value integer not null check (discount_value >= 1),
        max_discount_amount bigint check (max_discount_amount >= 0),
        min_order_amount bigint not null default 0 check (min_order_amount >= 0),
        issue_type text not null check (issue_type in ('DIRECT', 'CODE')),
        total_quantity integer not null check (total_quantity >= 1),
        per_user_limit integer not null default 1 check (per_user_limit >= 1),
        valid_from timestamptz not null,
        valid_until timestamptz not null,
        valid_days_after_issue integer check (valid_days_after_issue >= 1),
        status text not null default 'ACTIVE' check (status in ('ACTIVE', 'INACTIVE')),
        issued_count integer not null default 0,
        codes_generated integer not null default 0,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint coupon_policies_quota check (issued_count >= 0 and issued_count <= total_quantity),
        constraint coupon_policies_codes check (codes_generated >= 0 and codes_generated <= total_quantity),
        constraint coupon_policies_window check (valid_until > valid_from),
        constraint coupon_policies_percentage check (discount_type <> 'PERCENTAGE' or discount_value <= 100)
      )`);
    this.addSql(
      'create index coupon_policies_created on coupon_policies (created_at desc, id desc)',
    );

    this.addSql(`
      create table coupon_codes (
        id uuid primary key,
        policy_id uuid not null references coupon_policies (id),
        code_hash bytea not null unique,
        redeemed_by text,
        redeemed_at timestamptz,
        created_at timestamptz not null default now()
      )`);
    this.addSql('create index coupon_codes_policy on coupon_codes (policy_id)');

    this.addSql(`
      create table coupons (
        id uuid primary key,
        policy_id uuid not null references coupon_policies (id),
        user_id text not null,
        user_slot integer not null check (user_slot >= 1),
        status text not null check (status in ('ISSUED', 'RESERVED', 'USED', 'EXPIRED', 'CANCELLED')),
        issued_at timestamptz not null,
        expires_at timestamptz not null,
        reserved_at timestamptz,
        used_at timestamptz,
        order_id text,
        discount_amount bigint check (discount_amount >= 0),
        issue_job_id text not null,
        code_id uuid references coupon_codes (id),
        updated_at timestamptz not null default now(),
        constraint coupons_issue_job unique (issue_job_id),
        constraint coupons_code_once unique (code_id),
        constraint coupons_user_slot unique (policy_id, user_id, user_slot)
      )`);
    this.addSql('create index coupons_user on coupons (user_id, id)');
    this.addSql('create index coupons_policy_status on coupons (policy_id, status)');
    this.addSql('create index coupons_order on coupons (order_id) where order_id is not null');
    this.addSql("create index coupons_expiring on coupons (expires_at) where status = 'ISSUED'");
    this.addSql("create index coupons_reserved on coupons (reserved_at) where status = 'RESERVED'");

    this.addSql(`
      create table coupon_history (
        id bigserial primary key,
        coupon_id uuid not null references coupons (id),
        from_status text,
        to_status text not null,
        actor text not null,
        reason text,
        at timestamptz not null default now()
      )`);
    this.addSql('create index coupon_history_coupon on coupon_history (coupon_id, id)');

    this.addSql(`
      create table outbox (
        id bigserial primary key,
        event_id uuid not null unique,
        event_type text not null,
        message_key text not null,
        payload jsonb not null,
        created_at timestamptz not null default now(),
        published_at timestamptz
      )`);
    this.addSql('create index outbox_pending on outbox (id) where published_at is null');

    this.addSql(`
      create table processed_events (
        event_id uuid primary key,
        processed_at timestamptz not null default now()
      )`);
  }

  override async down(): Promise<void> {
    this.addSql(
      'drop table if exists processed_events, outbox, coupon_history, coupons, coupon_codes, coupon_policies',
    );
  }
}
