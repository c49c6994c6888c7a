import { describe, expect, it } from 'vitest';
import { causeOf, isOutage, OutageError } from '../../src/infra/failures.js';

/** An error as knex and MikroORM hand on a refused statement: the SQL with its parameters first. */
function databaseError(code: string, message: string, detail?: string) {
  const error = new Error(
    `insert into payment_events (event_id, order_id)\n  select * from jsonb_to_recordset('[{"order_id":"x - y"}]') - ${message}${detail ? `\n - detail: ${detail}` : ''}`,
  );
  return Object.assign(error, { code, name: 'CheckConstraintViolationException' });
}

describe('isOutage', () => {
  it('counts an unreachable or overloaded dependency as an outage', () => {
    for (const code of ['08006', '08001', '57P01', '57P03', '53300', '53100']) {
      expect(isOutage(databaseError(code, 'terminating connection')), code).toBe(true);
    }
    expect(
      isOutage(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(isOutage(new Error('select 1 - Connection terminated unexpectedly'))).toBe(true);
    expect(isOutage(new Error('Connection is closed.'))).toBe(true);
    expect(isOutage(Object.assign(new Error('x'), { name: 'KafkaJSConnectionError' }))).toBe(true);
    expect(isOutage(new OutageError('not durable within 5000 ms'))).toBe(true);
    expect(isOutage(new Error('wrapped', { cause: new OutageError('down') }))).toBe(true);
  });

  it('does not count a refusal of the data, even when the data reads like an outage', () => {
    for (const code of ['22P05', '22021', '23514', '23505', '42703', '40P01']) {
      expect(isOutage(databaseError(code, 'connection terminated')), code).toBe(false);
    }
    expect(isOutage(new Error('database glitch'))).toBe(false);
    expect(isOutage('a string')).toBe(false);
  });
});

describe('causeOf', () => {
  it('keeps the SQLSTATE and the server’s words, never the statement, its parameters or the detail', () => {
    const cause = causeOf(
      databaseError(
        '23514',
        'new row for relation "payment_events" violates check constraint "no_poison"',
        'Failing row contains (secret).',
      ),
    );
    expect(cause).toBe(
      '23514 new row for relation "payment_events" violates check constraint "no_poison"',
    );
  });

  it('is one short line', () => {
    const cause = causeOf(new Error(`first\nsecond\u0000${'x'.repeat(500)}`));
    expect(cause.includes('\n') || cause.includes('\u0000')).toBe(false);
    expect(cause.length).toBeLessThanOrEqual(200);
    expect(causeOf(new OutageError('not durable within 500 ms'))).toBe(
      'OutageError: not durable within 500 ms',
    );
  });
});
