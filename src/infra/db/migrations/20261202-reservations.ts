import { Migration } from '@mikro-orm/migrations';

/**
 * Reservations as records, and the results of committed usage jobs.
 *
 * Reservations: Every reserve writes one; it is closed (confirmed, released, timed out,
 * cancelled) by the change that ends it, in the same statement. The partial unique index is the
 * database's word that a coupon holds at most one ACTIVE reservation, whatever a worker does.
 * Coupons RESERVED before this migration get their ACTIVE record here (their order amount was never
 * kept; their timeout counts from `reserved_at` with the default TTL of 15 minutes).
 */
export class Migration20261202Reservations extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table coupon_reservations (
        id uuid primary key,
        coupon_id uuid not null references coupons (id),
        order_id text not null,
        user_id text not null,
        order_amount bigint check (order_amount >= 0),
        discount_amount bigint not null check (discount_amount >= 0),
        state text not null
          check (state in ('ACTIVE', 'CONFIRMED', 'RELEASED', 'TIMED_OUT', 'CANCELLED')),
        reserved_at timestamptz not null,
        expires_at timestamptz not null,
        closed_at timestamptz,
        closed_by text,
        reason text,
        extensions integer not null default 0 check (extensions >= 0),
        constraint coupon_reservations_closed check ((state = 'ACTIVE') = (closed_at is null))
      )`);
    this.addSql(
      "create unique index coupon_reservations_one_active on coupon_reservations (coupon_id) where state = 'ACTIVE'",
    );
    this.addSql(
      'create index coupon_reservations_coupon on coupon_reservations (coupon_id, reserved_at, id)',
    );
    this.addSql(
      "create index coupon_reservations_timed_out on coupon_reservations (order_id) where state = 'TIMED_OUT'",
    );
    this.addSql(`
      insert into coupon_reservations (id, coupon_id, order_id, user_id, discount_amount, state,
                                       reserved_at, expires_at)
      select gen_random_uuid(), c.id, c.order_id, c.user_id, coalesce(c.discount_amount, 0), 'ACTIVE',
             coalesce(c.reserved_at, c.updated_at),
             coalesce(c.reserved_at, c.updated_at) + interval '15 minutes'
        from coupons c
       where c.status = 'RESERVED' and c.order_id is not null`);

    // The result of each committed reserve/use/release/cancel job, written in its transaction: a
    // retry of a job whose change committed (its acknowledgement lost) answers the same result.
    this.addSql(`
      create table usage_job_results (
        job_id text primary key,
        coupon_id uuid not null references coupons (id),
        result jsonb not null,
        at timestamptz not null default now()
      )`);
    this.addSql('create index usage_job_results_at on usage_job_results (at)');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists usage_job_results, coupon_reservations');
  }
}
