import { type BenchContext, log, waitUntil } from '../lib/context.js';
import { type CpuProbe, procProbe, round, startCpu } from '../lib/cpu.js';
import { memoryMb, type Proc, stopAll } from '../lib/proc.js';
import { adminCall, adminToken, createCodePolicy } from './http.js';

/** The batch scenario's worker processes (as the flash sale's). */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
/** The api's RSS is read this often during the export. */
const SAMPLE_MS = 100;

interface JobView {
  state: string;
  progress?: { done: number; total: number };
  error?: { code: string; message: string };
}

/**
 * Scenario 9: one code batch of `count` codes on a CODE policy of totalQuantity `count`, made by the
 * worker process(es); timed from the 202 to the job's `completed` (GET /v1/jobs/:id polled every
 * 50 ms). Then the CSV export through one api process, its body streamed and its lines counted
 * without keeping them, with the api's RSS (VmRSS) sampled every 100 ms against its RSS just before.
 */
export async function codeBatch(ctx: BenchContext, count: number, probes: CpuProbe[]) {
  const prefix = ctx.name('s9');
  const procs: Proc[] = [];
  try {
    const started = await Promise.all([
      ctx.startService('s9 api', 'api', { ROLES: 'api', QUEUE_PREFIX: prefix }),
      ...Array.from({ length: WORKERS }, (_, i) =>
        ctx.startService(`s9 worker-${i + 1}`, 'worker', { ROLES: 'worker', QUEUE_PREFIX: prefix }),
      ),
    ]);
    procs.push(...started.map((s) => s.proc));
    const api = started[0].proc;
    const url = started[0].baseUrl!;
    const policyId = await createCodePolicy(url, 's9 code batch', count);

    const cpu = startCpu([...procs.map(procProbe), ...probes]);
    const batch = await adminCall<{ batchId: string; jobId: string; statusUrl: string }>(
      url,
      'POST',
      `/v1/policies/${policyId}/code-batches`,
      { count },
      202,
    );
    const acceptedAt = Date.now();
    const job = await waitUntil(
      `code batch job ${batch.jobId}`,
      async () => {
        const view = await adminCall<JobView>(url, 'GET', batch.statusUrl);
        if (view.state === 'failed')
          throw new Error(`code batch job failed: ${JSON.stringify(view.error)}`);
        return view.state === 'completed' ? view : undefined;
      },
      { timeoutMs: 240_000, everyMs: 50, alive: procs },
    );
    const generationS = round((Date.now() - acceptedAt) / 1000);
    const generationCpu = cpu.end();
    log(
      `code batch: ${count} codes in ${generationS} s (progress ${JSON.stringify(job.progress)})`,
    );

    const idle = memoryMb(api.pid);
    let peakRssMb = idle.rssMb;
    let samples = 0;
    const sampler = setInterval(() => {
      try {
        peakRssMb = Math.max(peakRssMb, memoryMb(api.pid).rssMb);
        samples++;
      } catch {
        // exited: the stream fails too
      }
    }, SAMPLE_MS);
    const exportCpu = startCpu([procProbe(api), ...probes]);
    const exportStarted = Date.now();
    let lines = 0;
    let bytes = 0;
    let status = 0;
    try {
      const res = await fetch(
        `${url}/v1/policies/${policyId}/code-batches/${batch.batchId}/codes.csv`,
        {
          headers: { authorization: `Bearer ${await adminToken()}` },
          signal: AbortSignal.timeout(180_000),
        },
      );
      status = res.status;
      if (!res.ok || !res.body) throw new Error(`codes.csv: ${res.status} ${await res.text()}`);
      for await (const chunk of res.body) {
        bytes += chunk.length;
        for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
      }
    } finally {
      clearInterval(sampler);
    }
    const exportS = (Date.now() - exportStarted) / 1000;
    const after = memoryMb(api.pid);
    peakRssMb = Math.max(peakRssMb, after.rssMb);
    const figures = {
      count,
      workers: WORKERS,
      generationS,
      generationCpuPercent: generationCpu,
      export: {
        status,
        lines,
        bytes,
        exactLines: lines === count + 1,
        seconds: round(exportS),
        codesPerSec: round((lines - 1) / exportS, 0),
        rssBeforeMb: round(idle.rssMb, 1),
        rssPeakMb: round(peakRssMb, 1),
        rssAboveIdleMb: round(peakRssMb - idle.rssMb, 1),
        // VmHWM, the lifetime peak, before and after: a rise means the export set a new peak.
        hwmBeforeMb: round(idle.peakRssMb, 1),
        hwmAfterMb: round(after.peakRssMb, 1),
        samples,
        cpuPercent: exportCpu.end(),
      },
    };
    log(
      `code export: ${lines} lines in ${figures.export.seconds} s (${figures.export.codesPerSec} codes/s), api RSS ${figures.export.rssBeforeMb} → peak ${figures.export.rssPeakMb} MB (${samples} samples)`,
    );
    return figures;
  } finally {
    await stopAll(procs);
    await ctx.deleteKeys(prefix);
  }
}
