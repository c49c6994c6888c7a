/** One dependency probe: resolves when the dependency answered, rejects with the reason otherwise. */
export type Probe = () => Promise<unknown>;

export interface CheckReport {
  ok: boolean;
  /** `up` or `down` per dependency: the contract's shape. */
  checks: Record<string, 'up' | 'down'>;
  /** Why each `down` dependency is down. */
  reasons: Record<string, string>;
}

/**
 * Runs every probe at once, each under its own timeout, so one hung dependency cannot hang the
 * readiness answer.
 */
export async function runChecks(
  probes: Record<string, Probe>,
  timeoutMs: number,
): Promise<CheckReport> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]): Promise<[string, string | null]> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([probe(), timeout]);
        return [name, null];
      } catch (error) {
        return [name, describe(error)];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const checks: CheckReport['checks'] = {};
  const reasons: CheckReport['reasons'] = {};
  for (const [name, reason] of entries) {
    checks[name] = reason === null ? 'up' : 'down';
    if (reason !== null) reasons[name] = reason;
  }
  return { ok: Object.keys(reasons).length === 0, checks, reasons };
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
};

/**
 * Reasons are shown to unauthenticated callers: a fixed phrase per kind of failure, never the
 * error's own message, which names hosts, ports and addresses (`connect ECONNREFUSED 10.0.0.5:5432`).
 */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return 'unavailable';
  if (/^no answer within \d+ ms$/.test(error.message)) return error.message;
  // Names a setting, never a host: written to be shown.
  if (error.name === 'RedisNotDurableError') return error.message;
  if (error.message.startsWith('circuit open:')) return error.message;
  const code = (error as { code?: unknown }).code;
  const network = typeof code === 'string' ? NETWORK_REASONS[code] : undefined;
  if (network) return network;
  if (/ECONNREFUSED/.test(error.message)) return NETWORK_REASONS.ECONNREFUSED as string;
  return /^[A-Za-z]+$/.test(error.name) && error.name !== 'Error'
    ? `unavailable (${error.name})`
    : 'unavailable';
}

/**
 * `run`'s answer, shared: callers within `maxAgeMs` of the last answer get it, and callers while a
 * run is in flight wait for that run. Probes and scrapes that any client may call then cost the
 * backends at most one run per `maxAgeMs`, however many call.
 */
export function sharedAnswer<T>(run: () => Promise<T>, maxAgeMs: number): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  let last: { value: T; at: number } | undefined;
  return () => {
    if (last && performance.now() - last.at <= maxAgeMs) return Promise.resolve(last.value);
    const started = performance.now();
    inFlight ??= run()
      .then((value) => {
        // Its age counts from when the run began, not from when it answered.
        last = { value, at: started };
        return value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}
