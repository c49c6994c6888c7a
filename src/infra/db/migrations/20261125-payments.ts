import { Migration } from '@mikro-orm/migrations';

/**
 * Payment events as the bridge received them. Recording an event before its offset is committed
 * gives two guarantees: the same `event_id` is applied once (primary key), and a worker applying
 * any event of an order first applies every earlier one still pending, in (partition, offset)
 * order, so several worker processes cannot reorder one order's events.
 */
export class Migration20261125Payments extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table payment_events (
        event_id uuid primary key,
        order_id text not null,
        event_type text not null
          check (event_type in ('PAYMENT_COMPLETED', 'PAYMENT_FAILED', 'PAYMENT_CANCELLED')),
        user_id text not null,
        amount bigint not null,
        occurred_at timestamptz not null,
        topic text not null,
        kafka_partition integer not null,
        kafka_offset bigint not null,
        received_at timestamptz not null default now(),
        applied_at timestamptz,
        outcome text
      )`);
    this.addSql(
      'create index payment_events_pending on payment_events (order_id, kafka_partition, kafka_offset) where applied_at is null',
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists payment_events');
  }
}
