import { describe, expect, it } from 'vitest';
import { serializeError } from '../../src/infra/logger.js';

describe('serializeError', () => {
  it('keeps a PostgreSQL error to its SQLSTATE, table, constraint and sentence: no SQL, no rows', () => {
    const error = Object.assign(
      new Error(
        'with x as (select * from jsonb_to_recordset($1::jsonb)) insert into coupons select 1 - new row for relation "coupons" violates check constraint "c"',
      ),
      {
        name: 'CheckConstraintViolationException',
        code: '23514',
        table: 'coupons',
        constraint: 'c',
        detail: 'Failing row contains (secret)',
      },
    );
    const record = serializeError(error);
    expect(record).toEqual({
      type: 'CheckConstraintViolationException',
      sqlState: '23514',
      table: 'coupons',
      constraint: 'c',
      message: 'new row for relation "coupons" violates check constraint "c"',
    });
    expect(JSON.stringify(record)).not.toMatch(/select|insert|secret|\bat /);
  });

  it('leaves other errors to pino', () => {
    const record = serializeError(new Error('boom')) as { message: string; stack: string };
    expect(record.message).toBe('boom');
    expect(record.stack).toContain('Error: boom');
  });
});
