import type { FailureKinds } from '../app/ports.js';

/**
 * Failures told apart, in one place: an outage of a dependency (PostgreSQL, Redis, Kafka
 * unreachable or out of resources) passes and must be waited out; a PostgreSQL error of class 22
 * or 23 is the rows' fault; anything else may be the data's fault and is retried a bounded number
 * of times.
 */

/** SQLSTATE classes of an unreachable or overloaded server: connection exceptions, insufficient
 * resources, the server shutting down (admin shutdown, crash, cannot connect now). */
const OUTAGE_SQLSTATE = /^(08|53|57P0)/;
const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The SQLSTATE of a PostgreSQL error (kept by MikroORM's converted exceptions), when it is one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && SQLSTATE.test(code) ? code : undefined;
}

/**
 * Class 22 (data exception: a NUL in text, a value out of range) or 23 (integrity constraint
 * violation): caused by the rows a statement writes, not by the connection or the server.
 */
export const isDataOrConstraintError = (error: unknown): boolean =>
  /^2[23]/.test(sqlState(error) ?? '');

/** Class 22: the same rows fail the same way however often they are written again. */
export const isDataError = (error: unknown): boolean => sqlState(error)?.startsWith('22') ?? false;
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ETIMEDOUT',
]);
/** Errors of a client that cannot reach its server (MikroORM, knex's pool, ioredis, kafkajs). */
const OUTAGE_NAMES =
  /^(ConnectionException|KnexTimeoutError|MaxRetriesPerRequestError|KafkaJS\w*)$/;
/** What pg and ioredis say, without a code, when the connection is gone. */
const OUTAGE_MESSAGES =
  /(connection terminated|connection is closed|stream isn't writeable|timeout exceeded when trying to connect|not durable within)/i;

/** Marks a failure as an outage explicitly (a timeout waiting for a dependency, a failed probe). */
export class OutageError extends Error {
  override name = 'OutageError';
}

/** True when `error` says a dependency is unreachable or overloaded rather than refusing the data. */
export function isOutage(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof OutageError) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // A server that answered with a SQLSTATE is judged by it alone: its message may quote the data.
    if (SQLSTATE.test(code)) return OUTAGE_SQLSTATE.test(code);
    if (NETWORK_CODES.has(code)) return true;
  }
  if (OUTAGE_NAMES.test(error.name)) return true;
  if (OUTAGE_MESSAGES.test(serverMessage(error.message))) return true;
  return error.cause !== undefined && isOutage(error.cause);
}

const MAX_CAUSE = 200;
const STATEMENT = /^\s*(with|select|insert|update|delete|begin|commit|rollback)\b/i;
const CONTROL = /\p{Cc}+/gu;

/**
 * The part of a database error's message that the server wrote. knex puts the whole statement,
 * with its parameters inlined, before it (`<sql> - <message>`), and MikroORM appends the detail
 * and hint (which may quote a row).
 */
function serverMessage(message: string): string {
  const withoutDetail = message.replace(/\n - (detail|hint): [\s\S]*$/, '');
  if (!STATEMENT.test(withoutDetail)) return withoutDetail;
  const at = withoutDetail.lastIndexOf(' - ');
  return at >= 0 ? withoutDetail.slice(at + 3) : 'the statement failed';
}

/**
 * What went wrong, in one short line fit for a log field or a Kafka header: the SQLSTATE and the
 * server's own words, never the statement or its parameters.
 */
export function causeOf(error: unknown): string {
  const err = error instanceof Error ? error : new Error(String(error));
  const code = (err as { code?: unknown }).code;
  const prefix = typeof code === 'string' && code !== '' ? `${code} ` : '';
  const name = err.name && err.name !== 'Error' && !prefix ? `${err.name}: ` : '';
  const line = `${prefix}${name}${serverMessage(err.message)}`.replace(CONTROL, ' ').trim();
  return line.length > MAX_CAUSE ? `${line.slice(0, MAX_CAUSE - 1)}…` : line;
}

/** The classifier as the use cases ask it. */
export const failureKinds: FailureKinds = {
  isOutage,
  isItemCaused: isDataOrConstraintError,
  isPermanent: isDataError,
  describe: causeOf,
};
