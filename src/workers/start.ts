import type { Logger } from 'pino';
import type { Env } from '../infra/config/env.js';
import type { Orm } from '../infra/db/orm.js';
import { startIssuanceWorker } from './issuance.worker.js';

export interface WorkerDeps {
  env: Env;
  logger: Logger;
  orm: Orm;
}

/** Starts one BullMQ worker per queue in this process. */
export function startWorkers(deps: WorkerDeps): { close: () => Promise<void> } {
  const workers = [startIssuanceWorker(deps)];
  return {
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
