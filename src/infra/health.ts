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

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Reasons are shown to unauthenticated callers: one short line, no addresses beyond what it says.
  return message.split('\n')[0]?.slice(0, 200) ?? 'unknown error';
}
