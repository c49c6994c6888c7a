import { makeCodeBatch } from '../app/make-code-batch.js';
import type { Ports } from '../app/ports.js';
import { type JobProcessor, parseJobData, type QueuedJob, unrecoverable } from './job-outcome.js';
import { codeBatchJobSchema } from './job-payloads.js';

export interface CodeBatchSettings {
  /** Codes committed per transaction. */
  chunkSize: number;
  exportTtlHours: number;
}

/**
 * The codes queue's processor: makes a batch's codes chunk by chunk, reporting `{done, total}` as
 * the job's progress. A retried job (after a crash or a stall) goes on from the batch's committed
 * `done`.
 */
export function codeBatchProcessor(
  ports: Pick<Ports, 'codeBatches' | 'clock'>,
  settings: CodeBatchSettings,
): JobProcessor {
  return {
    async process(job: QueuedJob & { updateProgress?(progress: object): Promise<void> }) {
      const { batchId } = parseJobData(codeBatchJobSchema, job.data);
      const progress = await makeCodeBatch(ports, {
        batchId,
        chunkSize: settings.chunkSize,
        exportTtlHours: settings.exportTtlHours,
        onProgress: async (now) => {
          await job.updateProgress?.(now);
        },
      });
      if (!progress) throw unrecoverable('No such code batch');
      return { batchId, ...progress };
    },
  };
}
