import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors.js';

/** The lists whose pages a cursor belongs to: a cursor of one list is refused by another. */
export type CursorScope = 'policies' | 'coupons' | 'audit' | 'history' | 'reservations';

const SIGNATURE_LENGTH = 22;

/**
 * Cursors the service signs: `<position>.<HMAC>` keyed with a server secret. A cursor the service
 * did not issue (forged, edited, from another list) is refused with 400 before any query, so its
 * value never reaches PostgreSQL.
 */
export function cursorCodec(secret: string) {
  const sign = (scope: CursorScope, position: string) =>
    createHmac('sha256', secret)
      .update(`cursor\n${scope}\n${position}`)
      .digest('base64url')
      .slice(0, SIGNATURE_LENGTH);
  return {
    encode(scope: CursorScope, position: string | null): string | null {
      return position === null ? null : `${position}.${sign(scope, position)}`;
    },
    /** The position `cursor` names, or undefined without one; a 400 for one not issued here. */
    decode(scope: CursorScope, cursor: string | undefined): string | undefined {
      if (cursor === undefined) return undefined;
      const dot = cursor.lastIndexOf('.');
      const position = cursor.slice(0, dot);
      const given = Buffer.from(cursor.slice(dot + 1));
      const expected = Buffer.from(sign(scope, position));
      if (dot <= 0 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new ApiError('VALIDATION_ERROR', 'The request does not match its schema', [
          { field: 'query.cursor', message: 'must be a cursor returned by a previous page' },
        ]);
      }
      return position;
    },
  };
}
export type CursorCodec = ReturnType<typeof cursorCodec>;
