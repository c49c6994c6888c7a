import { createHash } from 'node:crypto';
import type { IHeaders } from 'kafkajs';

/**
 * A DLQ record as it is produced: a key, a value and headers. Every record the bridge builds is one
 * of these (kafkajs's `Message` without a partition or timestamp of its own).
 */
export interface DlqRecord {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: IHeaders;
}

/** A refused message and why: what goes to the DLQ for it. */
export interface DlqCopy {
  /** The original key, value and headers. */
  message: { key: Buffer | null; value: Buffer | null; headers?: IHeaders };
  /** The headers the bridge adds: `x-error-code`, `x-error-message`, `x-original-*`. */
  headers: Record<string, string>;
}

/** The forms a DLQ copy takes, each smaller than the one before; see {@link dlqRecord}. */
export type DlqForm = 'full' | 'truncated' | 'bare';

/** Bytes of the original value kept in a truncated record's `head`. */
export const DLQ_HEAD_BYTES = 1024;

/**
 * Bounds of one DLQ send. A send's records to one partition form one record batch, which the broker
 * refuses above the topic's `max.message.bytes` (broker default ~1 MB); 512 KiB leaves room under
 * it, so only a single record larger than that (alone in its send) or a topic with a smaller limit
 * meets a refusal, which {@link sendDlqRecords} then works around.
 */
export const DLQ_BATCH_LIMITS = { maxRecords: 500, maxBytes: 512 * 1024 } as const;

const bytes = (data: Buffer | string | null | undefined) =>
  data == null ? 0 : typeof data === 'string' ? Buffer.byteLength(data) : data.length;

const asBuffer = (data: Buffer | null) => data ?? Buffer.alloc(0);

/**
 * What stands in for a value too large for the DLQ: its size, its SHA-256 (hex) and its first
 * {@link DLQ_HEAD_BYTES} bytes in base64 (the value may not be text, and a cut could split a
 * character).
 */
function valueSummary(value: Buffer, extra: Record<string, number> = {}): string {
  return JSON.stringify({
    truncated: true,
    size: value.length,
    sha256: sha256(value),
    head: value.subarray(0, DLQ_HEAD_BYTES).toString('base64'),
    ...extra,
  });
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * The record for a refused message in one of its forms:
 * - `full`: the original key and value, its headers and the bridge's;
 * - `truncated` (the broker refused the full copy as too large): the same key and headers plus
 *   `x-original-size` (bytes of the original value) and `x-value-sha256` (its SHA-256, hex), and for
 *   value the JSON `{"truncated":true,"size":N,"sha256":"…","head":"<base64 of its first 1 KiB>"}`;
 * - `bare` (the truncated record refused too: the key or the message's own headers are that large):
 *   no key and only the bridge's headers and those two; the value adds `keySize` (bytes) and
 *   `headersDropped` (how many of the message's own headers were left out).
 */
export function dlqRecord({ message, headers }: DlqCopy, form: DlqForm): DlqRecord {
  if (form === 'full') {
    return { key: message.key, value: message.value, headers: { ...message.headers, ...headers } };
  }
  const value = asBuffer(message.value);
  const sizes = {
    ...headers,
    'x-original-size': String(value.length),
    'x-value-sha256': sha256(value),
  };
  if (form === 'truncated') {
    return {
      key: message.key,
      value: valueSummary(value),
      headers: { ...message.headers, ...sizes },
    };
  }
  const own = Object.keys(message.headers ?? {}).filter((name) => !(name in sizes));
  return {
    key: null,
    value: valueSummary(value, { keySize: bytes(message.key), headersDropped: own.length }),
    headers: sizes,
  };
}

/**
 * About what a record weighs in a record batch: its key, value and headers, with a margin for the
 * lengths and fields around each (a record's own overhead is at most ~20 bytes, a header's ~10).
 */
export function recordBytes({ key, value, headers }: DlqRecord): number {
  let total = 32 + bytes(key) + bytes(value);
  for (const [name, header] of Object.entries(headers)) {
    for (const part of Array.isArray(header) ? header : [header]) {
      total += 16 + Buffer.byteLength(name) + bytes(part);
    }
  }
  return total;
}

/**
 * `items` in order, cut into batches of at most `maxRecords` and at most `maxBytes` (by `size`);
 * an item larger than `maxBytes` goes alone.
 */
export function boundedBatches<T>(
  items: readonly T[],
  size: (item: T) => number,
  { maxRecords, maxBytes }: { maxRecords: number; maxBytes: number },
): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let batchBytes = 0;
  for (const item of items) {
    const itemBytes = size(item);
    if (batch.length > 0 && (batch.length >= maxRecords || batchBytes + itemBytes > maxBytes)) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(item);
    batchBytes += itemBytes;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/**
 * Whether Kafka refused a produce as too large: a record batch above the topic's
 * `max.message.bytes` (`MESSAGE_TOO_LARGE`, code 10) or above its segment size
 * (`RECORD_LIST_TOO_LARGE`, code 18). kafkajs may hand the protocol error on as a `cause`.
 */
export function isTooLarge(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const { type } = current as { type?: unknown };
    if (typeof type === 'string' && TOO_LARGE.has(type)) return true;
    current = current.cause;
  }
  return false;
}

/**
 * Sends one record for each of `copies` to the DLQ through `send`, in batches within `limits`, and
 * returns the form each went in. A batch the broker refuses as too large is sent again in halves;
 * a copy refused alone goes in its next smaller form (`full`, then `truncated`, then `bare`). Any
 * other failure, or a bare record still refused, is thrown: nothing is skipped. A refused batch
 * spanning several DLQ partitions may have been written to some of them, so a copy can be in the
 * DLQ twice, as on any redelivery.
 */
export async function sendDlqRecords(
  copies: readonly DlqCopy[],
  send: (records: DlqRecord[]) => Promise<unknown>,
  limits: { maxRecords: number; maxBytes: number } = DLQ_BATCH_LIMITS,
): Promise<DlqForm[]> {
  const forms: DlqForm[] = copies.map(() => 'full');
  const sendBatch = async (indexes: number[]): Promise<void> => {
    try {
      await send(indexes.map((i) => dlqRecord(copies[i] as DlqCopy, forms[i] as DlqForm)));
    } catch (error) {
      if (!isTooLarge(error)) throw error;
      if (indexes.length > 1) {
        const half = Math.ceil(indexes.length / 2);
        await sendBatch(indexes.slice(0, half));
        await sendBatch(indexes.slice(half));
        return;
      }
      const i = indexes[0] as number;
      if (forms[i] === 'bare') throw error;
      forms[i] = forms[i] === 'full' ? 'truncated' : 'bare';
      await sendBatch(indexes);
    }
  };
  const batches = boundedBatches(
    copies.map((_, i) => i),
    (i) => recordBytes(dlqRecord(copies[i] as DlqCopy, 'full')),
    limits,
  );
  for (const batch of batches) await sendBatch(batch);
  return forms;
}
