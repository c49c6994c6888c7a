import type { Settled } from '../app/isolate.js';
import { type IssueRequest, issueCoupons } from '../app/issue-coupons.js';
import type { Ports } from '../app/ports.js';
import { couponView } from '../app/views.js';
import type { Coupon, Outcome } from '../domain/index.js';
import { createBatcher, type GroupCommitOptions } from './batcher.js';
import { type JobProcessor, parseJobData, settle, unrecoverable } from './job-outcome.js';
import { issueJobSchema } from './job-payloads.js';

/**
 * The issuance queue's processor: many jobs in flight at once, gathered into groups committed in
 * one transaction each (group commit, {@link issueCoupons}), each job resolved with its own outcome
 * only after the commit. A job that failed alone is retried, or failed for good when its data
 * cannot be stored.
 */
export function issuanceProcessor(ports: Ports, group: GroupCommitOptions): JobProcessor {
  const batcher = createBatcher<IssueRequest, Settled<Outcome<Coupon>>>({
    ...group,
    run: (requests) => issueCoupons(ports, requests),
  });
  return {
    async process(job) {
      const data = parseJobData(issueJobSchema, job.data);
      const result = await batcher.submit({
        jobId: job.id as string,
        data,
        firstRun: job.attemptsStarted <= 1,
      });
      if (!result.ok) {
        // Data PostgreSQL refuses stays refused: no retry can cure it.
        if (ports.failures.isPermanent(result.error)) {
          throw unrecoverable('The job holds data that cannot be stored');
        }
        throw result.error;
      }
      return settle(result.value, (coupon) => ({ coupon: couponView(coupon) }));
    },
    drain: () => batcher.drain(),
  };
}
