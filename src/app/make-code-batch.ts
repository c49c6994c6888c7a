import type { Clock, CodeBatchStore } from './ports.js';

const HOUR_MS = 3_600_000;

export interface MakeCodeBatchOptions {
  batchId: string;
  /** Codes made and committed per transaction. @defaultValue 10000 */
  chunkSize?: number;
  /** Hours the finished batch can be exported. */
  exportTtlHours: number;
  /** Told after each committed chunk (the job's progress). */
  onProgress?: (progress: { done: number; total: number }) => Promise<void>;
}

/**
 * Makes a recorded batch's codes, a chunk per transaction, each chunk's codes committed with the
 * batch's `done`: run again after a crash, it goes on from the last committed chunk, so no code is
 * made twice or lost. Null for an unknown batch.
 */
export async function makeCodeBatch(
  ports: { codeBatches: CodeBatchStore; clock: Clock },
  { batchId, chunkSize = 10_000, exportTtlHours, onProgress }: MakeCodeBatchOptions,
): Promise<{ done: number; total: number } | null> {
  const batch = await ports.codeBatches.find(batchId);
  if (!batch) return null;
  let progress = { done: batch.done, total: batch.count };
  await onProgress?.(progress);
  while (progress.done < progress.total) {
    progress = await ports.codeBatches.addChunk(batchId, chunkSize);
    await onProgress?.(progress);
  }
  if (!batch.completedAt) {
    const now = ports.clock.now();
    await ports.codeBatches.complete(
      batchId,
      now,
      new Date(now.getTime() + exportTtlHours * HOUR_MS),
    );
  }
  return progress;
}
