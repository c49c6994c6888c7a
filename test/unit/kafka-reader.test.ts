import type { EachMessagePayload } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { eachStoredMessageOnce } from '../support/kafka-reader.js';

const payload = (partition: number, offset: string, value: string) =>
  ({ topic: 't', partition, message: { offset, value: Buffer.from(value) } }) as EachMessagePayload;

describe('eachStoredMessageOnce', () => {
  it('passes each stored message on once, and a copy at another offset as well', async () => {
    const seen: string[] = [];
    const handler = eachStoredMessageOnce(({ partition, message }) => {
      seen.push(`${partition}:${message.offset}:${message.value}`);
    });
    for (const [partition, offset, value] of [
      [0, '0', 'a'],
      [1, '0', 'b'],
      [0, '0', 'a'], // handed again after a rebalance
      [0, '1', 'a'], // the same event stored twice
    ] as const) {
      await handler(payload(partition, offset, value));
    }
    expect(seen).toEqual(['0:0:a', '1:0:b', '0:1:a']);
  });
});
