import { NO_SUCH_CODE_HASH } from '../domain/index.js';
import type { CodeAttempts, CodeHasher, IntakeGate, IssueJobData, JobQueue } from './ports.js';
import type { Principal } from './principal.js';
import { actsFor } from './principal.js';
import { accepted, keyReused, notYours, type Result, tooManyAttempts } from './refusal.js';

export type IssuanceInput = { policyId: string; userId?: string | undefined } | { code: string };

/**
 * Accepts a request for a coupon as a job, without reading the database: an unknown policy or code
 * fails the job, not the request. A DIRECT policy or a public code known to be sold out is answered
 * at intake (a job that reads failed with QUOTA_EXHAUSTED, and no transaction) — only without an
 * Idempotency-Key, whose repeats must keep naming the one job a first request created. A caller
 * past the limit of failed code redemptions is refused (RATE_LIMITED) for code requests.
 */
export async function requestIssuance(
  ports: {
    jobs: JobQueue;
    intake: IntakeGate;
    hashCode: CodeHasher;
    hashPublicCode: CodeHasher;
    codeAttempts: CodeAttempts;
  },
  principal: Principal,
  input: IssuanceInput,
  idempotencyKey: string | undefined,
): Promise<Result<{ jobId: string }>> {
  let data: IssueJobData;
  if ('policyId' in input) {
    const userId = input.userId ?? principal.sub;
    if (!actsFor(principal, userId)) return notYours();
    if (idempotencyKey === undefined && (await ports.intake.soldOut(input.policyId))) {
      return accepted({ jobId: await refuseSoldOut(ports.intake, principal) });
    }
    data = { type: 'ISSUE', actor: principal.sub, userId, policyId: input.policyId };
  } else {
    // A sold-out public code is answered first: most of a public-code flash sale ends here, and
    // a known code tells a guesser nothing.
    const publicCodeHash = ports.hashPublicCode(input.code) ?? undefined;
    if (
      publicCodeHash !== undefined &&
      idempotencyKey === undefined &&
      (await ports.intake.publicCodeSoldOut(publicCodeHash))
    ) {
      return accepted({ jobId: await refuseSoldOut(ports.intake, principal) });
    }
    // Guessing is limited: a caller whose codes keep failing is refused before any job is made.
    const wait = await ports.codeAttempts.blockedFor(principal.sub);
    if (wait !== null) return tooManyAttempts(wait);
    data = {
      type: 'ISSUE',
      actor: principal.sub,
      userId: principal.sub,
      codeHash: ports.hashCode(input.code) ?? NO_SUCH_CODE_HASH,
      ...(publicCodeHash === undefined ? {} : { publicCodeHash }),
    };
  }
  const result = await ports.jobs.enqueueIssue({
    actor: principal.sub,
    idempotencyKey,
    data,
    request: input,
  });
  return result.ok ? accepted({ jobId: result.jobId }) : keyReused();
}

function refuseSoldOut(intake: IntakeGate, principal: Principal): Promise<string> {
  return intake.refuse({
    actor: principal.sub,
    code: 'QUOTA_EXHAUSTED',
    message: 'The policy has no coupon left',
  });
}
