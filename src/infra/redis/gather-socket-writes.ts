import { Cluster } from 'ioredis';
import type { RedisClient } from './connection.js';

/** Streams corked until the end of the current turn. */
const corked = new WeakSet<object>();

/**
 * Holds the connection's writes until the current event-loop turn ends (`setImmediate`), so that
 * every command issued meanwhile leaves in one system call. On this kind of machine a write to a
 * socket costs tens of microseconds, as much as the rest of what an API request or a worker's job
 * completion does; under load many of them fall in one turn. Commands are answered as usual, each
 * on its own; a connection not ready to write is left alone (ioredis queues its commands). A cluster
 * client gathers the writes to each of its masters.
 */
export function gatherSocketWrites(connection: RedisClient): void {
  if (connection instanceof Cluster) {
    for (const node of connection.nodes('master')) gatherSocketWrites(node);
    return;
  }
  const stream = connection.stream;
  if (!stream?.writable || corked.has(stream)) return;
  corked.add(stream);
  stream.cork();
  setImmediate(() => {
    corked.delete(stream);
    stream.uncork();
  });
}
