import type { WorkerDeps } from './deps.js';
import { startIssuanceWorker } from './issuance.worker.js';
import { startUsageWorker } from './usage.worker.js';

/** Starts one BullMQ worker per queue in this process. */
export function startWorkers(deps: WorkerDeps): { close: () => Promise<void> } {
  const workers = [startIssuanceWorker(deps), startUsageWorker(deps)];
  return {
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
