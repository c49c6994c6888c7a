import type { JobQueue, JobStatus } from './ports.js';
import { actsFor, type Principal } from './principal.js';
import { accepted, notFound, notYours, type Result } from './refusal.js';

/** A job's state and outcome, for its creator or an admin. */
export async function readJob(
  ports: { jobs: JobQueue },
  principal: Principal,
  jobId: string,
): Promise<Result<Omit<JobStatus, 'actor'>>> {
  const job = await ports.jobs.read(jobId);
  if (!job) return notFound('job');
  if (!actsFor(principal, job.actor)) return notYours();
  const { actor: _, ...status } = job;
  return accepted(status);
}
