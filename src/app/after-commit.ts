import type { Warn } from './ports.js';

/**
 * Work after a commit (cache versions, statistics) is best effort: the change is durable, so a
 * failure here is logged and never fails the job — a failed job would be retried for a change
 * that already happened. The statistics cache bounds its staleness by its own TTL.
 */
export async function afterCommit(
  logger: Warn,
  what: string,
  work: () => Promise<unknown>,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.warn({ step: what, error: message }, 'work after commit failed; the change stands');
  }
}
