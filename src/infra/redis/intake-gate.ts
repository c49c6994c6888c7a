import type { Redis } from 'ioredis';
import type { IntakeGate } from '../../app/ports.js';
import { newVerdictJobId, VerdictRecorder } from '../queue/verdicts.js';
import { clearSoldOut, markSoldOut, SoldOutGate } from './sold-out.js';

/**
 * The intake gate in Redis: the sold-out marks workers set after their commits, read by the API
 * through a per-process view ({@link SoldOutGate}); requests decided at intake are stored as
 * verdicts that read like failed jobs.
 */
export function redisIntakeGate(redis: Redis, prefix: string): IntakeGate {
  const soldOut = new SoldOutGate(redis, prefix);
  const verdicts = new VerdictRecorder(redis, prefix);
  return {
    soldOut: (policyId) => soldOut.soldOut(policyId),
    async refuse({ actor, code, message }) {
      const jobId = newVerdictJobId();
      await verdicts.record({ jobId, actor, code, message, at: Date.now() });
      return jobId;
    },
    markSoldOut: (policies) => markSoldOut(redis, prefix, policies),
    // Other API processes see the change within the gate's refresh period.
    async reopen(policyId) {
      await clearSoldOut(redis, prefix, policyId);
      soldOut.forget(policyId);
    },
  };
}
