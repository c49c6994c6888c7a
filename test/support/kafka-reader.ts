import type { EachMessagePayload } from 'kafkajs';

/**
 * An `eachMessage` handler that sees each stored message once. Kafka delivers at least once: a
 * reader whose group rebalances before its offsets are committed is handed the same messages
 * again. A test counting what a topic holds must not count those; a real duplicate (the same
 * event at another offset) still reaches `handle`.
 */
export function eachStoredMessageOnce(
  handle: (payload: EachMessagePayload) => Promise<void> | void,
): (payload: EachMessagePayload) => Promise<void> {
  const delivered = new Set<string>();
  return async (payload) => {
    const at = `${payload.partition}:${payload.message.offset}`;
    if (delivered.has(at)) return;
    delivered.add(at);
    await handle(payload);
  };
}
