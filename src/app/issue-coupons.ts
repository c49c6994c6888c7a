import {
  type Coupon,
  checkIssuance,
  isSoldOut,
  newCoupon,
  type Outcome,
  ok,
  reject,
} from '../domain/index.js';
import { isolateFailures, type Settled } from './isolate.js';
import type {
  Clock,
  CodeAttempts,
  CodeRow,
  FailureKinds,
  Grant,
  IntakeGate,
  IssuanceStore,
  IssuanceTx,
  IssueJobData,
  NewId,
  Statistics,
  Warn,
} from './ports.js';

export interface IssueRequest {
  jobId: string;
  data: IssueJobData;
  /**
   * The job runs for the first time (BullMQ's `attemptsStarted` is 1), so it cannot have issued a
   * coupon before and its earlier coupon is not looked up.
   */
  firstRun: boolean;
}

export interface IssueGroupResult {
  /** One per request, in order. */
  outcomes: Outcome<Coupon>[];
  /** Policies of the group that were sold out at commit (see the domain's `isSoldOut`). */
  soldOut: { id: string; validUntil: Date }[];
}

/**
 * Decides a group of requests in ONE transaction, each with its own outcome, in arrival order.
 *
 * Exactness does not depend on how many workers run or how often a job is retried:
 * - the policy rows are locked (after the code rows), so counts read under the lock stay true
 *   until commit;
 * - a job that already issued (a retry after a crash between commit and acknowledgement) gets its
 *   coupon back, found by its job id. Only jobs started before are looked up; should a job id ever
 *   be added afresh after its record expired, the store refuses the group, and
 *   {@link issueCoupons} runs the group without it and that job again with the lookup;
 * - the store refuses what the code must never do (see the issuance store).
 */
export function issueGroup(
  ports: { issuance: IssuanceStore; newId: NewId },
  requests: IssueRequest[],
  now: Date,
): Promise<IssueGroupResult> {
  return ports.issuance.transaction(async (tx) => {
    const hashes = [
      ...new Set(requests.flatMap((r) => (r.data.codeHash ? [r.data.codeHash] : []))),
    ];
    const codes = await tx.lockCodes(hashes);
    const policyIds = new Set<string>();
    for (const { data } of requests) {
      const policyId = data.policyId ?? (data.codeHash && codes.get(data.codeHash)?.policyId);
      if (policyId) policyIds.add(policyId);
    }
    const policies = await tx.lockPolicies([...policyIds]);
    const issuedBefore = await tx.couponsOfJobs(
      requests.filter((r) => !r.firstRun).map((r) => r.jobId),
    );
    const userCounts = await tx.countUserCoupons(userPairs(requests, policies, codes));

    const outcomes: Outcome<Coupon>[] = [];
    const granted: Grant[] = [];
    const claimedCodes = new Set<string>();
    for (const { jobId, data } of requests) {
      const already = issuedBefore.get(jobId);
      if (already) {
        outcomes.push(ok(already));
        continue;
      }
      let code: CodeRow | undefined;
      if (data.codeHash !== undefined) {
        code = codes.get(data.codeHash);
        if (!code) {
          outcomes.push(reject('CODE_INVALID'));
          continue;
        }
        if (code.redeemed || claimedCodes.has(code.id)) {
          outcomes.push(reject('CODE_ALREADY_USED'));
          continue;
        }
      }
      const policy = policies.get(code?.policyId ?? data.policyId ?? '');
      if (!policy) {
        outcomes.push(reject('POLICY_NOT_FOUND'));
        continue;
      }
      if (!code && policy.issueType === 'CODE') {
        outcomes.push(reject('CODE_INVALID', 'This policy issues coupons only against a code.'));
        continue;
      }
      const userKey = `${policy.id}\n${data.userId}`;
      const userIssuedCount = userCounts.get(userKey) ?? 0;
      const rejection = checkIssuance(policy, { userIssuedCount, now });
      if (rejection) {
        outcomes.push(rejection);
        continue;
      }
      const coupon = newCoupon(policy, { id: ports.newId(), userId: data.userId, now });
      policy.issuedCount += 1;
      userCounts.set(userKey, userIssuedCount + 1);
      if (code) claimedCodes.add(code.id);
      granted.push({
        coupon,
        slot: userIssuedCount + 1,
        jobId,
        codeId: code?.id ?? null,
        actor: data.actor,
      });
      outcomes.push(ok(coupon));
    }

    await answerRepeatsFromTheirCoupon(tx, requests, outcomes);
    if (granted.length > 0) await tx.writeIssued(granted, now);
    const soldOut = [...policies.values()]
      .filter((policy) => isSoldOut(policy, now))
      .map(({ id, validUntil }) => ({ id, validUntil }));
    return { outcomes, soldOut };
  });
}

/** The (policy, user) pairs of the group whose policy exists, for the per-user counts. */
function userPairs(
  requests: IssueRequest[],
  policies: Map<string, unknown>,
  codes: Map<string, CodeRow>,
): { policyId: string; userId: string }[] {
  const pairs = new Map<string, { policyId: string; userId: string }>();
  for (const { data } of requests) {
    const policyId = data.codeHash ? codes.get(data.codeHash)?.policyId : data.policyId;
    if (policyId && policies.has(policyId)) {
      pairs.set(`${policyId}\n${data.userId}`, { policyId, userId: data.userId });
    }
  }
  return [...pairs.values()];
}

/**
 * A job id new to BullMQ may still have its coupon: added afresh after its Idempotency-Key record
 * and its job expired. Its repeat is refused by the rules its first run passed (per-user limit, a
 * sold-out quota); it is answered from its coupon instead. Looked up only for the refused, so a
 * group of first runs that all succeed pays nothing for it.
 */
async function answerRepeatsFromTheirCoupon(
  tx: IssuanceTx,
  requests: IssueRequest[],
  outcomes: Outcome<Coupon>[],
): Promise<void> {
  const refusedFirstRuns = requests.flatMap((r, i) =>
    r.firstRun && !outcomes[i]?.ok ? [r.jobId] : [],
  );
  if (refusedFirstRuns.length === 0) return;
  const found = await tx.couponsOfJobs(refusedFirstRuns);
  requests.forEach(({ jobId }, i) => {
    const coupon = found.get(jobId);
    if (coupon) outcomes[i] = ok(coupon);
  });
}

export interface IssueCouponsPorts {
  issuance: IssuanceStore;
  newId: NewId;
  clock: Clock;
  statistics: Pick<Statistics, 'changed'>;
  intake: Pick<IntakeGate, 'markSoldOut'>;
  codeAttempts: Pick<CodeAttempts, 'failed'>;
  failures: FailureKinds;
  log: Warn;
}

/**
 * Issues a group of requests gathered from many jobs: one transaction ({@link issueGroup}); when it
 * fails because of one request, the group commits without it (`isolateFailures`) and that request
 * alone fails. After the commit the statistics are outdated and sold-out policies are marked at
 * the intake gate (best effort: without the mark, requests just keep reaching the worker).
 */
export async function issueCoupons(
  ports: IssueCouponsPorts,
  requests: IssueRequest[],
): Promise<Settled<Outcome<Coupon>>[]> {
  const soldOut: IssueGroupResult['soldOut'] = [];
  const settled = await isolateFailures(requests, {
    run: async (part) => {
      const result = await issueGroup(ports, part, ports.clock.now());
      soldOut.push(...result.soldOut);
      return result.outcomes;
    },
    itemCaused: ports.failures.isItemCaused,
    // A job id that comes back after its Idempotency-Key record expired is new to BullMQ but has
    // its coupon already (the store refused it): answered from that coupon.
    again: (request, failures) =>
      failures === 1 && request.firstRun ? { ...request, firstRun: false } : undefined,
  });
  settled.forEach((result, i) => {
    if (!result.ok) {
      ports.log.warn(
        { jobId: requests[i]?.jobId, cause: ports.failures.describe(result.error) },
        'issuance job failed alone; its group committed without it',
      );
    }
  });
  await ports.statistics.changed(
    settled.flatMap((result) =>
      result.ok && result.value.ok ? [result.value.value.policyId] : [],
    ),
  );
  const guessed = settled.flatMap((result, i) =>
    result.ok && !result.value.ok && result.value.code === 'CODE_INVALID'
      ? [requests[i]?.data.actor ?? '']
      : [],
  );
  if (guessed.length > 0) {
    await ports.codeAttempts
      .failed(guessed)
      .catch((error: unknown) =>
        ports.log.warn({ cause: ports.failures.describe(error) }, 'could not count failed codes'),
      );
  }
  await ports.intake
    .markSoldOut(soldOut)
    .catch((error: unknown) =>
      ports.log.warn({ cause: ports.failures.describe(error) }, 'could not mark sold-out policies'),
    );
  return settled;
}
