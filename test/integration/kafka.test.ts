import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createTopics } from '../../src/infra/kafka/client.js';
import { eachStoredMessageOnce } from '../support/kafka-reader.js';
import { services, uniqueName } from '../support/services.js';

describe('kafkajs on the real broker', () => {
  it('produces, consumes and commits offsets', async () => {
    const kafka = new Kafka({ brokers: services().kafkaBrokers, logLevel: logLevel.NOTHING });
    const topic = uniqueName('test.roundtrip');
    const groupId = uniqueName('test-group');
    const admin = kafka.admin();
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId });
    await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);
    try {
      await createTopics(admin, [{ topic, numPartitions: 1 }]);
      const sent = Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
      await producer.send({ topic, messages: sent, acks: -1 });

      await consumer.subscribe({ topic, fromBeginning: true });
      const received: string[] = [];
      const done = new Promise<void>((resolve) => {
        void consumer.run({
          autoCommit: false,
          eachMessage: eachStoredMessageOnce(async ({ message, partition }) => {
            received.push(message.value?.toString() ?? '');
            await consumer.commitOffsets([
              { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
            ]);
            if (received.length === sent.length) resolve();
          }),
        });
      });
      await done;
      expect(received).toEqual(sent.map((m) => m.value));

      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(committed?.partitions).toEqual([{ partition: 0, offset: '20', metadata: null }]);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
