import type { IntakeGate } from '../../app/ports.js';
import { IntakeRefusalLog, newIntakeRefusalJobId } from '../queue/intake-refusals.js';
import type { RedisClient } from './connection.js';
import { clearSoldOut, markSoldOut, publicCodeMark, SoldOutGate } from './sold-out.js';

/**
 * The intake gate in Redis: the sold-out marks workers set after their commits, read by the API
 * through a per-process view ({@link SoldOutGate}); requests decided at intake are stored as
 * refusals that read like failed jobs.
 */
export function redisIntakeGate(redis: RedisClient, prefix: string): IntakeGate {
  const soldOut = new SoldOutGate(redis, prefix);
  const refusals = new IntakeRefusalLog(redis, prefix);
  return {
    soldOut: (policyId) => soldOut.soldOut(policyId),
    publicCodeSoldOut: (publicCodeHash) => soldOut.soldOut(publicCodeMark(publicCodeHash)),
    async refuse({ actor, code, message }) {
      const jobId = newIntakeRefusalJobId();
      await refusals.record({ jobId, actor, code, message, at: Date.now() });
      return jobId;
    },
    markSoldOut: (policies) => markSoldOut(redis, prefix, policies),
    // Other API processes see the change within the gate's refresh period.
    async reopen(policyId, publicCodeHash) {
      const marks = publicCodeHash ? [policyId, publicCodeMark(publicCodeHash)] : [policyId];
      await clearSoldOut(redis, prefix, marks);
      for (const mark of marks) soldOut.forget(mark);
    },
  };
}
