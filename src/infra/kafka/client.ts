import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { type Admin, Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { Env } from '../config/env.js';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  logger?: Logger;
  /**
   * TLS to the brokers: `true` trusts Node's CAs, options add e.g. a `ca`.
   * @defaultValue plain TCP
   */
  ssl?: ConnectionOptions | boolean;
  /** @defaultValue no authentication */
  sasl?: SASLOptions;
}

/** The brokers and how to reach them safely, from the environment: every Kafka client's source. */
export function kafkaConnection(
  env: Pick<
    Env,
    | 'KAFKA_BROKERS'
    | 'KAFKA_SSL'
    | 'KAFKA_SSL_CA_FILE'
    | 'KAFKA_SASL_MECHANISM'
    | 'KAFKA_SASL_USERNAME'
    | 'KAFKA_SASL_PASSWORD'
  >,
): Pick<KafkaOptions, 'brokers' | 'ssl' | 'sasl'> {
  const connection: Pick<KafkaOptions, 'brokers' | 'ssl' | 'sasl'> = { brokers: env.KAFKA_BROKERS };
  if (env.KAFKA_SSL) {
    connection.ssl = env.KAFKA_SSL_CA_FILE
      ? { ca: readFileSync(env.KAFKA_SSL_CA_FILE, 'utf8') }
      : true;
  }
  // The environment schema has made sure the three come together.
  if (env.KAFKA_SASL_MECHANISM && env.KAFKA_SASL_USERNAME && env.KAFKA_SASL_PASSWORD) {
    connection.sasl = {
      mechanism: env.KAFKA_SASL_MECHANISM,
      username: env.KAFKA_SASL_USERNAME,
      password: env.KAFKA_SASL_PASSWORD,
    };
  }
  return connection;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * What kafkajs warns at every idempotent producer with bounded retries. The outbox relay's is one
 * on purpose, and replaces it after any failed send (`newProducer` in outbox-relay.ts), which is
 * what the warning is about; on every start it would only read as a fault.
 */
export const LIMITED_RETRIES =
  'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/**
 * The level a kafkajs log line is written at. kafkajs's `Connection` logs every error response
 * at ERROR before its caller retries it (a coordinator still loading, a partition without a
 * leader — every start after a fresh broker has some); when retrying does not help, the error
 * reaches the service's code, which logs it as what it is. So those lines are warnings. Its
 * {@link LIMITED_RETRIES} warning goes to debug.
 */
export function kafkaLogLevel(
  namespace: string,
  level: number,
  message: string,
): 'error' | 'warn' | 'info' | 'debug' {
  if (message === LIMITED_RETRIES) return 'debug';
  if (namespace === 'Connection' && level === logLevel.ERROR) return 'warn';
  return LEVELS[level] ?? 'info';
}

/** What {@link createKafka} hands kafkajs. */
export function kafkaConfig({ brokers, clientId, logger, ssl, sasl }: KafkaOptions): KafkaConfig {
  return {
    clientId,
    brokers,
    ...(ssl === undefined ? {} : { ssl }),
    ...(sasl === undefined ? {} : { sasl }),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5000 },
    logLevel: logger ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry) => {
      if (!logger) return;
      const { message, ...extra } = entry.log;
      logger[kafkaLogLevel(entry.namespace, entry.level, message)](
        { kafka: entry.namespace, ...extra },
        message,
      );
    },
  };
}

export function createKafka(options: KafkaOptions): Kafka {
  return new Kafka(kafkaConfig(options));
}

/** Runs work on an admin client (see {@link sharedAdmin} and {@link withAdmin}). */
export type AdminRunner = <T>(work: (admin: Admin) => Promise<T>) => Promise<T>;

/**
 * Kafka is ready when publishing is not failing (this process's relay circuit, when it runs one)
 * and a metadata round trip answers: an open port is not enough to call a broker ready, a
 * metadata answer is.
 */
export async function pingKafka(admin: AdminRunner, circuitOpen?: () => boolean): Promise<unknown> {
  if (circuitOpen?.()) throw new Error('circuit open: publishing to Kafka keeps failing');
  return admin((client) => client.describeCluster());
}

const lostConnection = (error: unknown) =>
  !(error instanceof Error) || error.name !== 'KafkaJSProtocolError';

/**
 * One admin client for a process's probes (`/ready`, the consumer lag of `/metrics`), connected on
 * first use and kept: a probe no longer opens a connection per call. It does not retry (probes must
 * answer fast); after a call that lost its connection it is dropped and the next call connects
 * afresh. An answer the broker gave (an unknown topic, say) keeps it.
 */
export function sharedAdmin(kafka: Kafka): { use: AdminRunner; close(): Promise<void> } {
  let connected: Promise<Admin> | undefined;
  const drop = async (admin: Admin) => {
    connected = undefined;
    await admin.disconnect().catch(() => undefined);
  };
  const connect = () => {
    connected ??= (async () => {
      const admin = kafka.admin({ retry: { retries: 0 } });
      try {
        await admin.connect();
        return admin;
      } catch (error) {
        await drop(admin);
        throw error;
      }
    })();
    return connected;
  };
  return {
    async use(work) {
      const admin = await connect();
      try {
        return await work(admin);
      } catch (error) {
        if (connected && lostConnection(error)) await drop(admin);
        throw error;
      }
    },
    async close() {
      const admin = await connected?.catch(() => undefined);
      if (admin) await drop(admin);
    },
  };
}

/** Runs `work` on a short-lived admin client that does not retry: probes must answer fast. */
export async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    return await work(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Creates those of `topics` the cluster does not have yet. Asking to create a topic that exists
 * answers `false`, but the client logs the broker's refusal as an error on every start; several
 * processes racing here still see that once, harmlessly.
 */
export async function ensureTopics(
  admin: Admin,
  topics: { topic: string; numPartitions?: number }[],
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter(({ topic }) => !existing.has(topic));
  if (missing.length > 0) await createTopics(admin, missing);
}

/**
 * Creates `topics` and waits until every partition has a leader that serves it. kafkajs's own wait
 * (`waitForLeaders`) retries only "leader not available": a broker under load can first answer
 * "unknown topic or partition" for a topic it has just created, which kafkajs then throws (and
 * rejects a second time, unhandled). Here every retriable answer is waited out, up to `timeoutMs`.
 */
export async function createTopics(
  admin: Admin,
  topics: { topic: string; numPartitions?: number }[],
  timeoutMs = 30_000,
): Promise<void> {
  await admin.createTopics({ topics, waitForLeaders: false });
  const names = topics.map(({ topic }) => topic);
  const deadline = Date.now() + timeoutMs;
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: names });
      const led = found.every(({ partitions }) => partitions.every(({ leader }) => leader >= 0));
      if (found.length === names.length && led) {
        // A leader in the metadata may still answer "not the leader" for a moment: the topics
        // count as created once every partition answers an offsets request.
        await Promise.all(names.map((topic) => admin.fetchTopicOffsets(topic)));
        return;
      }
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable || Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics without leaders after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** Messages of `topic` not yet committed by `groupId`, over all partitions. */
export async function consumerLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, groups] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const committed = new Map(
    (groups[0]?.partitions ?? []).map(({ partition, offset }) => [partition, BigInt(offset)]),
  );
  let total = 0n;
  for (const { partition, high, low } of ends) {
    const at = committed.get(partition) ?? -1n;
    // No commit yet: the group starts from the beginning (`fromBeginning`), so all is lag.
    total += BigInt(high) - (at >= 0n ? at : BigInt(low));
  }
  return Number(total);
}
