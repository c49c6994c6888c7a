import type { JobQueue, JobStatus } from './ports.js';
import { actsFor, type Principal } from './principal.js';
import type { Read } from './read-coupons.js';

/** A job's state and outcome, for its creator or an admin. */
export async function readJob(
  ports: { jobs: JobQueue },
  principal: Principal,
  jobId: string,
): Promise<Read<Omit<JobStatus, 'actor'>>> {
  const job = await ports.jobs.read(jobId);
  if (!job) return { ok: false, reason: 'NOT_FOUND' };
  if (!actsFor(principal, job.actor)) return { ok: false, reason: 'FORBIDDEN' };
  const { actor: _, ...status } = job;
  return { ok: true, value: status };
}
