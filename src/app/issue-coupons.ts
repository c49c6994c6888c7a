import {
  type Coupon,
  checkIssuance,
  isSoldOut,
  NO_SUCH_CODE_HASH,
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
  SoldOutMark,
  Statistics,
  StoredPolicy,
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
    // A typed text that cannot be a generated code (a public code, a typo) is not looked up.
    const hashes = [
      ...new Set(
        requests.flatMap((r) =>
          r.data.codeHash && r.data.codeHash !== NO_SUCH_CODE_HASH ? [r.data.codeHash] : [],
        ),
      ),
    ];
    const codes = await tx.lockCodes(hashes);
    // Public codes never change, so their policies are found without a lock, before any is taken.
    const publicCodes = await tx.policiesByPublicCode([
      ...new Set(requests.flatMap((r) => (r.data.publicCodeHash ? [r.data.publicCodeHash] : []))),
    ]);
    const targets = requests.map(({ data }) => targetOf(data, publicCodes, codes));
    const policyIds = new Set<string>();
    for (const target of targets) if (target.policyId) policyIds.add(target.policyId);
    const policies = await tx.lockPolicies([...policyIds]);
    const issuedBefore = await tx.couponsOfJobs(
      requests.filter((r) => !r.firstRun).map((r) => r.jobId),
    );
    const userCounts = await tx.countUserCoupons(userPairs(requests, targets, policies));

    const outcomes: Outcome<Coupon>[] = [];
    const granted: Grant[] = [];
    const claimedCodes = new Set<string>();
    for (const [i, { jobId, data }] of requests.entries()) {
      const already = issuedBefore.get(jobId);
      if (already) {
        outcomes.push(ok(already));
        continue;
      }
      const target = targets[i] as Target;
      const code = target.code;
      if (target.kind === 'code') {
        if (!code) {
          outcomes.push(reject('CODE_INVALID'));
          continue;
        }
        if (code.redeemed || claimedCodes.has(code.id)) {
          outcomes.push(reject('CODE_ALREADY_USED'));
          continue;
        }
      }
      const policy = policies.get(target.policyId ?? '');
      if (!policy) {
        outcomes.push(reject('POLICY_NOT_FOUND'));
        continue;
      }
      if (target.kind === 'policy' && policy.issueType === 'CODE') {
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
    return { outcomes, soldOut: soldOutMarks(policies, publicCodes, now) };
  });
}

/**
 * What a request asks for: a public code's policy (tried first), a generated code (`code` absent
 * when no such code exists), or a policy by id.
 */
interface Target {
  kind: 'public' | 'code' | 'policy';
  policyId: string | undefined;
  code?: CodeRow | undefined;
}

function targetOf(
  data: IssueJobData,
  publicCodes: Map<string, string>,
  codes: Map<string, CodeRow>,
): Target {
  const publicPolicy = data.publicCodeHash ? publicCodes.get(data.publicCodeHash) : undefined;
  if (publicPolicy) return { kind: 'public', policyId: publicPolicy };
  if (data.codeHash !== undefined) {
    const code = codes.get(data.codeHash);
    return { kind: 'code', policyId: code?.policyId, code };
  }
  // A request with only a public code that matched nothing is an invalid code, not a policy.
  if (data.publicCodeHash !== undefined) return { kind: 'code', policyId: undefined };
  return { kind: 'policy', policyId: data.policyId };
}

/** The (policy, user) pairs of the group whose policy exists, for the per-user counts. */
function userPairs(
  requests: IssueRequest[],
  targets: Target[],
  policies: Map<string, unknown>,
): { policyId: string; userId: string }[] {
  const pairs = new Map<string, { policyId: string; userId: string }>();
  requests.forEach(({ data }, i) => {
    const policyId = targets[i]?.policyId;
    if (policyId && policies.has(policyId)) {
      pairs.set(`${policyId}\n${data.userId}`, { policyId, userId: data.userId });
    }
  });
  return [...pairs.values()];
}

/**
 * Sold-out marks for the group's policies: a DIRECT policy by id; a CODE policy by the public code
 * the group named (requests by generated code are not gated at intake).
 */
function soldOutMarks(
  policies: Map<string, StoredPolicy>,
  publicCodes: Map<string, string>,
  now: Date,
): SoldOutMark[] {
  const publicHashOf = new Map([...publicCodes].map(([hash, policyId]) => [policyId, hash]));
  return [...policies.values()].flatMap((policy): SoldOutMark[] => {
    if (!isSoldOut(policy, now)) return [];
    const { id, validUntil } = policy;
    if (policy.issueType === 'DIRECT') return [{ id, validUntil }];
    const publicCodeHash = publicHashOf.get(id);
    return publicCodeHash ? [{ id, validUntil, publicCodeHash }] : [];
  });
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
