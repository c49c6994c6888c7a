import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

const RESTART_DELAY_MS = 1000;

/**
 * Runs `count` api processes that share the listening port (node:cluster: this process accepts
 * connections and hands them round-robin to the api processes). A process that dies is replaced
 * after a second; `close()` sends SIGTERM to each and waits for all to exit, so every in-flight
 * request is answered first, as in a single api process.
 */
export async function startApiProcesses(
  count: number,
  logger: Logger,
): Promise<{ close(): Promise<void> }> {
  let stopping = false;
  const running = new Set<Worker>();

  const fork = (): Promise<void> => {
    const child = cluster.fork({ ROLES: 'api', API_PROCESSES: '1' });
    running.add(child);
    child.once('exit', (code, signal) => {
      running.delete(child);
      if (stopping) return;
      logger.error({ pid: child.process.pid, code, signal }, 'api process died; replacing it');
      setTimeout(() => {
        if (!stopping) void fork().catch(() => undefined);
      }, RESTART_DELAY_MS).unref();
    });
    return new Promise<void>((resolve, reject) => {
      child.once('listening', () => resolve());
      child.once('exit', (code) =>
        reject(new Error(`api process exited (${code}) before listening`)),
      );
    });
  };

  await Promise.all(Array.from({ length: count }, fork));
  logger.info({ processes: count }, 'api processes listening');
  return {
    async close() {
      stopping = true;
      await Promise.all(
        [...running].map(
          (child) =>
            new Promise<void>((resolve) => {
              child.once('exit', () => resolve());
              child.process.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
