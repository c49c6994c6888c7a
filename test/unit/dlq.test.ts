import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  boundedBatches,
  DLQ_HEAD_BYTES,
  type DlqCopy,
  type DlqRecord,
  dlqRecord,
  isTooLarge,
  recordBytes,
  sendDlqRecords,
} from '../../src/infra/kafka/dlq.js';

const bridgeHeaders = {
  'x-error-code': 'INVALID_JSON',
  'x-error-message': 'not JSON: Unexpected token',
  'x-original-topic': 'payments',
  'x-original-partition': '2',
  'x-original-offset': '41',
};

const copy = (value: string | null, key: string | null = 'order-1'): DlqCopy => ({
  message: {
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    headers: { traceparent: Buffer.from('00-abc-def-01') },
  },
  headers: bridgeHeaders,
});

/** The error kafkajs throws for a batch above the topic's `max.message.bytes`. */
const tooLarge = () =>
  Object.assign(new Error('The request included a message larger than the max message size'), {
    name: 'KafkaJSProtocolError',
    type: 'MESSAGE_TOO_LARGE',
    code: 10,
  });

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');

describe('dlqRecord', () => {
  const value = `not json ${'é'.repeat(2000)}`;

  it('is the original key, value and headers plus the bridge headers in full', () => {
    const record = dlqRecord(copy(value), 'full');
    expect(record.key?.toString()).toBe('order-1');
    expect(record.value?.toString()).toBe(value);
    expect(record.headers).toEqual({
      traceparent: Buffer.from('00-abc-def-01'),
      ...bridgeHeaders,
    });
  });

  it('truncated: the same key and headers, the size and digest, and the first bytes in base64', () => {
    const record = dlqRecord(copy(value), 'truncated');
    const size = Buffer.byteLength(value);
    expect(record.key?.toString()).toBe('order-1');
    expect(record.headers).toEqual({
      traceparent: Buffer.from('00-abc-def-01'),
      ...bridgeHeaders,
      'x-original-size': String(size),
      'x-value-sha256': sha256(value),
    });
    const summary = JSON.parse(String(record.value));
    expect(summary).toEqual({
      truncated: true,
      size,
      sha256: sha256(value),
      head: Buffer.from(value).subarray(0, DLQ_HEAD_BYTES).toString('base64'),
    });
    // The head is bytes: it may end inside a character, which base64 keeps intact.
    expect(Buffer.from(summary.head, 'base64')).toHaveLength(DLQ_HEAD_BYTES);
    expect(recordBytes(record)).toBeLessThan(2000);
  });

  it('bare: no key and none of the message’s own headers, with their sizes in the value', () => {
    const record = dlqRecord(copy(value, 'k'.repeat(5000)), 'bare');
    expect(record.key).toBeNull();
    expect(record.headers).toEqual({
      ...bridgeHeaders,
      'x-original-size': String(Buffer.byteLength(value)),
      'x-value-sha256': sha256(value),
    });
    expect(JSON.parse(String(record.value))).toMatchObject({
      truncated: true,
      size: Buffer.byteLength(value),
      keySize: 5000,
      headersDropped: 1,
    });
  });

  it('summarises an empty value as size 0', () => {
    const record = dlqRecord(copy(null), 'truncated');
    expect(record.headers['x-original-size']).toBe('0');
    expect(record.headers['x-value-sha256']).toBe(sha256(''));
    expect(JSON.parse(String(record.value))).toMatchObject({ size: 0, head: '' });
  });
});

describe('recordBytes', () => {
  it('counts the key, the value and every header, with a margin', () => {
    const record: DlqRecord = {
      key: 'abc',
      value: Buffer.alloc(1000),
      headers: { a: 'xy', b: [Buffer.alloc(10), 'z'] },
    };
    const content = 3 + 1000 + (1 + 2) + (1 + 10) + (1 + 1);
    expect(recordBytes(record)).toBeGreaterThan(content);
    expect(recordBytes(record)).toBeLessThan(content + 100);
  });
});

describe('boundedBatches', () => {
  const limits = { maxRecords: 3, maxBytes: 100 };
  const batches = (sizes: number[]) => boundedBatches(sizes, (n) => n, limits);

  it('keeps the order and cuts by count', () => {
    expect(batches([1, 1, 1, 1, 1, 1, 1])).toEqual([[1, 1, 1], [1, 1, 1], [1]]);
  });

  it('cuts by bytes, and a record larger than the bound goes alone', () => {
    expect(batches([60, 30, 20, 150, 10, 100, 1])).toEqual([
      [60, 30],
      [20],
      [150],
      [10],
      [100],
      [1],
    ]);
  });

  it('makes no batch of nothing', () => {
    expect(batches([])).toEqual([]);
  });

  it('never exceeds either bound except with a single record', () => {
    const sizes = Array.from({ length: 500 }, (_, i) => (i * 37) % 130);
    const cut = batches(sizes);
    expect(cut.flat()).toEqual(sizes);
    for (const batch of cut) {
      expect(batch.length).toBeLessThanOrEqual(limits.maxRecords);
      if (batch.length > 1) expect(batch.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(100);
    }
  });
});

describe('isTooLarge', () => {
  it('knows MESSAGE_TOO_LARGE and RECORD_LIST_TOO_LARGE, also as a cause', () => {
    expect(isTooLarge(tooLarge())).toBe(true);
    expect(isTooLarge(Object.assign(new Error('x'), { type: 'RECORD_LIST_TOO_LARGE' }))).toBe(true);
    expect(isTooLarge(new Error('wrapped', { cause: tooLarge() }))).toBe(true);
  });

  it('is false for anything else', () => {
    expect(isTooLarge(new Error('Connection error: ECONNREFUSED'))).toBe(false);
    expect(isTooLarge(Object.assign(new Error('x'), { type: 'NOT_LEADER_FOR_PARTITION' }))).toBe(
      false,
    );
    expect(isTooLarge('MESSAGE_TOO_LARGE')).toBe(false);
    expect(isTooLarge(undefined)).toBe(false);
  });
});

describe('sendDlqRecords', () => {
  /** A broker that refuses a send whose records weigh more than `limit` in all. */
  function broker(limit: number, refuse: (records: DlqRecord[]) => Error = tooLarge) {
    const sends: DlqRecord[][] = [];
    const stored: DlqRecord[] = [];
    return {
      sends,
      stored,
      send: async (records: DlqRecord[]) => {
        sends.push(records);
        if (records.reduce((n, r) => n + recordBytes(r), 0) > limit) throw refuse(records);
        stored.push(...records);
      },
    };
  }

  it('sends a small set in one send, in full', async () => {
    const kafka = broker(10_000);
    const forms = await sendDlqRecords([copy('a'), copy('b')], kafka.send);
    expect(forms).toEqual(['full', 'full']);
    expect(kafka.sends).toHaveLength(1);
    expect(kafka.stored.map((r) => String(r.value))).toEqual(['a', 'b']);
  });

  it('sends within the bounds: never more records or bytes in one send', async () => {
    const kafka = broker(1_000_000);
    const copies = Array.from({ length: 25 }, (_, i) => copy(`${i}`.padEnd(300, '.')));
    await sendDlqRecords(copies, kafka.send, { maxRecords: 10, maxBytes: 2000 });
    expect(kafka.stored).toHaveLength(25);
    for (const records of kafka.sends) {
      expect(records.length).toBeLessThanOrEqual(10);
      expect(records.reduce((n, r) => n + recordBytes(r), 0)).toBeLessThanOrEqual(2000);
    }
  });

  it('halves a batch the broker refuses until each part fits, all in full', async () => {
    const kafka = broker(2500);
    const copies = Array.from({ length: 8 }, (_, i) => copy(`${i}`.padEnd(900, '.')));
    const forms = await sendDlqRecords(copies, kafka.send);
    expect(forms).toEqual(copies.map(() => 'full'));
    expect(kafka.stored.map((r) => String(r.value))).toEqual(
      copies.map((c) => String(c.message.value)),
    );
  });

  it('replaces only the copy too large alone with its truncated record', async () => {
    const kafka = broker(5000);
    const copies = [copy('small'), copy('x'.repeat(6000)), copy('small too')];
    const forms = await sendDlqRecords(copies, kafka.send);
    expect(forms).toEqual(['full', 'truncated', 'full']);
    expect(kafka.stored.map((r) => r.headers['x-original-size'])).toEqual([
      undefined,
      '6000',
      undefined,
    ]);
  });

  it('goes bare when the key itself is too large, and throws when even that is refused', async () => {
    const kafka = broker(5000);
    const forms = await sendDlqRecords([copy('x'.repeat(6000), 'k'.repeat(6000))], kafka.send);
    expect(forms).toEqual(['bare']);
    expect(kafka.stored[0]?.key).toBeNull();

    const tiny = broker(100);
    await expect(sendDlqRecords([copy('x'.repeat(6000))], tiny.send)).rejects.toThrow(
      /larger than the max message size/,
    );
    expect(tiny.sends).toHaveLength(3);
  });

  it('throws any other failure at once, skipping nothing', async () => {
    const down = broker(0, () => new Error('Connection error: ECONNREFUSED'));
    await expect(sendDlqRecords([copy('a'), copy('b')], down.send)).rejects.toThrow('ECONNREFUSED');
    expect(down.sends).toHaveLength(1);
  });
});
