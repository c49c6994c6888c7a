import { Migration } from '@mikro-orm/migrations';

/**
 * Orders and money: how a policy's coupons combine on an order (`stacking`), its spend budget, the
 * order each coupon is held for with its amount, and the money of each order's payments.
 *
 * `budget_spent` is the running sum of the discounts of a budgeted policy's RESERVED and USED
 * coupons, moved by the statement that changes their status; a reserve or use reads it under the
 * policy's row lock, so the budget holds with any number of workers. Orders are backfilled from
 * the ACTIVE and CONFIRMED reservations that kept their order amount, with what their completed
 * payments took (orders whose amount was never kept get no row: they have no amount to check).
 */
export class Migration20261205Orders extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table coupon_policies
        add column stacking text not null default 'EXCLUSIVE'
          check (stacking in ('EXCLUSIVE', 'STACKABLE')),
        add column budget bigint check (budget >= 1),
        add column budget_spent bigint not null default 0`);
    this.addSql(`
      update coupon_policies p set budget_spent = s.spent
        from (select policy_id, sum(discount_amount) as spent from coupons
               where status in ('RESERVED', 'USED') group by policy_id) s
       where p.id = s.policy_id`);

    this.addSql('alter table coupons add column order_amount bigint check (order_amount >= 0)');
    this.addSql(`
      update coupons c set order_amount = r.order_amount
        from coupon_reservations r
       where r.coupon_id = c.id and r.order_id = c.order_id
         and ((r.state = 'ACTIVE' and c.status = 'RESERVED')
              or (r.state = 'CONFIRMED' and c.status = 'USED'))`);

    this.addSql(`
      create table orders (
        order_id text primary key,
        user_id text not null,
        order_amount bigint not null check (order_amount >= 0),
        paid_amount bigint not null default 0 check (paid_amount >= 0),
        refunded_amount bigint not null default 0 check (refunded_amount >= 0),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    this.addSql(`
      insert into orders (order_id, user_id, order_amount, paid_amount)
      select distinct on (r.order_id) r.order_id, r.user_id, r.order_amount,
             coalesce((select sum(e.amount) from payment_events e
                        where e.order_id = r.order_id and e.event_type = 'PAYMENT_COMPLETED'
                          and e.applied_at is not null), 0)
        from coupon_reservations r
       where r.state in ('ACTIVE', 'CONFIRMED') and r.order_amount is not null
       order by r.order_id, r.reserved_at desc
      on conflict do nothing`);

    // A payment completing after its order's reservation closed unpaid uses the coupon of the
    // reservation that closed last, whatever closed it.
    this.addSql('drop index if exists coupon_reservations_timed_out');
    this.addSql(`create index coupon_reservations_closed_unpaid
      on coupon_reservations (order_id, closed_at) where state in ('TIMED_OUT', 'RELEASED')`);

    this.addSql(
      'alter table payment_events drop constraint if exists payment_events_event_type_check',
    );
    this.addSql(`alter table payment_events add constraint payment_events_event_type_check
      check (event_type in ('PAYMENT_COMPLETED', 'PAYMENT_FAILED', 'PAYMENT_CANCELLED',
                            'PAYMENT_REFUNDED'))`);
  }

  override async down(): Promise<void> {
    this.addSql("delete from payment_events where event_type = 'PAYMENT_REFUNDED'");
    this.addSql(
      'alter table payment_events drop constraint if exists payment_events_event_type_check',
    );
    this.addSql(`alter table payment_events add constraint payment_events_event_type_check
      check (event_type in ('PAYMENT_COMPLETED', 'PAYMENT_FAILED', 'PAYMENT_CANCELLED'))`);
    this.addSql('drop index if exists coupon_reservations_closed_unpaid');
    this.addSql(
      "create index coupon_reservations_timed_out on coupon_reservations (order_id) where state = 'TIMED_OUT'",
    );
    this.addSql('drop table if exists orders');
    this.addSql('alter table coupons drop column if exists order_amount');
    this.addSql(
      'alter table coupon_policies drop column if exists stacking, drop column if exists budget, drop column if exists budget_spent',
    );
  }
}
