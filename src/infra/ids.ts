import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/** Random bytes for 256 ids, refilled when used up: one system call instead of one per id. */
const pool = new Uint8Array(16 * 256);
let offset = pool.length;
/** The last id's millisecond and counter, so ids of one process sort in the order they were made. */
let lastMs = Number.NEGATIVE_INFINITY;
let seq = 0;

/**
 * A UUIDv7 (time-ordered, so new rows land at the right edge of their indexes), as `uuid`'s `v7()`
 * makes it — a random counter each new millisecond, incremented within one — with its random bytes
 * taken from a pool: `v7()` asks the system for 16 bytes per id, which cost as much as the rest of
 * issuing a coupon in the worker.
 */
export function newId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const random = pool.subarray(offset, offset + 16);
  offset += 16;
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    // 31 bits, leaving room to count up within the millisecond (as `uuid` does).
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs += 1;
  }
  return v7({ random, msecs: lastMs, seq });
}
