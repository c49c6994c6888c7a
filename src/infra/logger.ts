import { type Logger, pino } from 'pino';
import { sqlState } from './failures.js';

/**
 * A PostgreSQL error as one short record: its SQLSTATE, table and constraint and the server's own
 * sentence. MikroORM puts the whole statement (and the rows in `detail`) into the message; neither
 * belongs in a log line.
 */
export function serializeError(error: unknown): unknown {
  const state = sqlState(error);
  if (state === undefined || !(error instanceof Error))
    return pino.stdSerializers.err(error as Error);
  const { table, constraint } = error as { table?: string; constraint?: string };
  return {
    type: error.name,
    sqlState: state,
    ...(table && { table }),
    ...(constraint && { constraint }),
    message: error.message.split(' - ').at(-1)?.split('\n')[0]?.slice(0, 200),
  };
}

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', '*.password', '*.token'], remove: true },
    serializers: { err: serializeError },
  });
}
