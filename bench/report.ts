import type { codeBatch } from './scenarios/codes.js';
import type { issuanceDrain, queueCeiling } from './scenarios/drain.js';
import type { flashSale, httpIngress } from './scenarios/http.js';
import type { stackedOrders } from './scenarios/orders.js';
import type { payments } from './scenarios/payments.js';

export interface Results {
  queueCeiling: {
    /** The median of the runs. */
    perSec: number;
    runs: Awaited<ReturnType<typeof queueCeiling>>[];
    /** The mean of the ceilings measured just before and just after each drain. */
    aroundDrain1: number;
    aroundDrain2: number;
  };
  drain1: Awaited<ReturnType<typeof issuanceDrain>>;
  drain2: Awaited<ReturnType<typeof issuanceDrain>>;
  ingress: Awaited<ReturnType<typeof httpIngress>>;
  flashSale: Awaited<ReturnType<typeof flashSale>>;
  payments: Awaited<ReturnType<typeof payments>>;
  orders: Awaited<ReturnType<typeof stackedOrders>>;
  publicSale: Awaited<ReturnType<typeof flashSale>>;
  codeBatch: Awaited<ReturnType<typeof codeBatch>>;
  rss: { apiMb: number; workerMb: number; perProcess: { name: string; peakRssMb: number }[] };
}

export interface Row {
  scenario: string;
  figure: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean | null;
}

const n = (value: number) => Math.round(value).toLocaleString('en-US');
/** A ratio to three places, cut rather than rounded: 0.4996 shows as 0.499, not as a met 0.50. */
const r = (value: number) => (Math.floor(value * 1000) / 1000).toFixed(3);
const yes = (met: boolean | null) => (met === null ? '—' : met ? 'yes' : '**no**');

export function rows(res: Results): Row[] {
  const { perSec: ceiling, runs, aroundDrain1, aroundDrain2 } = res.queueCeiling;
  const ratio1 = res.drain1.perSec / aroundDrain1;
  const ratio2 = res.drain2.perSec / aroundDrain2;
  const { api, bare } = res.ingress;
  const fs = res.flashSale;
  const pay = res.payments;
  const ord = res.orders;
  const pub = res.publicSale;
  const pubRatio = fs.totalS / pub.totalS;
  const cb = res.codeBatch;
  return [
    {
      scenario: '1. Queue ceiling: 20,000 no-op jobs, 1 process, concurrency 50',
      figure: `${n(ceiling)} jobs/s (median of ${runs.map((run) => n(run.perSec)).join(', ')}: before, between, after the drains)`,
      baseline: '—',
      ratio: '—',
      target: '—',
      met: null,
    },
    {
      scenario: '2. Issuance drain, 20,000 jobs, 1 worker process',
      figure: `${n(res.drain1.perSec)} coupons/s, ${res.drain1.exact ? 'exact' : 'NOT EXACT'}`,
      baseline: `ceiling around it ${n(aroundDrain1)} jobs/s`,
      ratio: r(ratio1),
      target: '≥ 0.5, exact',
      met: ratio1 >= 0.5 && res.drain1.exact,
    },
    {
      scenario: '2. Issuance drain, 20,000 jobs, 2 worker processes',
      figure: `${n(res.drain2.perSec)} coupons/s, ${res.drain2.exact ? 'exact' : 'NOT EXACT'}`,
      baseline: `ceiling around it ${n(aroundDrain2)} jobs/s`,
      ratio: r(ratio2),
      target: 'exact',
      met: res.drain2.exact,
    },
    {
      scenario: '3. HTTP ingress, POST /v1/issuances, 50 connections, 10 s',
      figure: `${n(api.reqPerSec)} req/s, p50 ${api.p50Ms} ms, p99 ${api.p99Ms} ms`,
      baseline: `bare queue.add ${n(bare.reqPerSec)} req/s, p50 ${bare.p50Ms} ms, p99 ${bare.p99Ms} ms (with body read: ${n(res.ingress.bareWithBody.reqPerSec)} req/s)`,
      ratio: r(res.ingress.ratio),
      target: '≥ 0.7, p99 ≤ 25 ms',
      met: res.ingress.ratio >= 0.7 && api.p99Ms <= 25 && api.non2xx === 0 && api.errors === 0,
    },
    {
      scenario: `4. Flash sale, 100,000 users, quota 10,000, api (${fs.apiProcesses} processes) + ${fs.workers} worker${fs.workers === 1 ? '' : 's'}`,
      figure: `${fs.totalS.toFixed(1)} s (all answered in ${fs.ingressS.toFixed(1)} s), ${n(fs.policy?.issued ?? 0)} issued${fs.exact ? ', exact' : ', NOT EXACT'}`,
      baseline: '—',
      ratio: '—',
      target: '≤ 20 s, exactly 10,000',
      met: fs.totalS <= 20 && fs.exact,
    },
    {
      scenario: '5. Payments, 10,000 PAYMENT_COMPLETED → USED, bridge + 2 workers',
      figure: `${n(pay.system.perSec)} events/s, ${pay.exact ? 'all USED, exact' : 'NOT EXACT'}`,
      baseline: `write floor (same rows, set-based, 3 chunks of 2,000 at once, no Kafka or queue) ${n(pay.floor.perSec)} events/s`,
      ratio: r(pay.ratio),
      target: '≥ 4,000 events/s, ≥ 0.5',
      met: pay.system.perSec >= 4000 && pay.ratio >= 0.5 && pay.exact,
    },
    {
      scenario: `5. Payments, steady ${n(pay.steady.targetPerSec)} events/s for ${Math.round(pay.steady.events / pay.steady.targetPerSec)} s`,
      figure: `produce → USED p50 ${pay.steady.p50Ms} ms, p99 ${pay.steady.p99Ms} ms, max ${pay.steady.maxMs} ms (${n(pay.steady.sentPerSec)} events/s sent)`,
      baseline: '—',
      ratio: '—',
      target: 'p99 ≤ 250 ms, all USED',
      met: pay.steady.p99Ms <= 250 && pay.steady.exact,
    },
    {
      scenario: '6. Peak RSS, api process (largest)',
      figure: `${n(res.rss.apiMb)} MB`,
      baseline: '—',
      ratio: '—',
      target: '≤ 200 MB',
      met: res.rss.apiMb <= 200,
    },
    {
      scenario: '6. Peak RSS, worker process (largest)',
      figure: `${n(res.rss.workerMb)} MB`,
      baseline: '—',
      ratio: '—',
      target: '≤ 250 MB',
      met: res.rss.workerMb <= 250,
    },
    {
      scenario: `7. Orders: ${n(ord.orders)} orders × 2 stackable coupons, ${ord.workers} workers`,
      figure: `${n(ord.perSec)} reserves/s (${n(ord.reserves)} in ${ord.totalS.toFixed(1)} s), request p50 ${ord.ingress.p50Ms} ms, p99 ${ord.ingress.p99Ms} ms; ${ord.exact ? `exact: every order 2 RESERVED, none over 30,000, ${n(ord.check.ordersCut)} cut (20,000 + 15,000 off on 30,000), 0 failed jobs` : `NOT EXACT: ${ord.problems.join('; ')}`}`,
      baseline: '—',
      ratio: '—',
      target: 'exact',
      met: ord.exact,
    },
    {
      scenario: `8. Flash sale with one public code, 100,000 users, quota 10,000, api (${pub.apiProcesses} processes) + ${pub.workers} worker${pub.workers === 1 ? '' : 's'}`,
      figure: `${pub.totalS.toFixed(1)} s (all answered in ${pub.ingressS.toFixed(1)} s), ${n(pub.policy?.issued ?? 0)} issued${pub.exact ? ', exact' : ', NOT EXACT'}`,
      baseline: `4. DIRECT sale ${fs.totalS.toFixed(1)} s (DIRECT ÷ public code)`,
      ratio: r(pubRatio),
      target: '≥ 0.9, exactly 10,000',
      met: pubRatio >= 0.9 && pub.exact,
    },
    {
      scenario: `9. Code batch of ${n(cb.count)} codes, ${cb.workers} worker${cb.workers === 1 ? '' : 's'}`,
      figure: `${cb.generationS.toFixed(1)} s from the 202 to completed`,
      baseline: '—',
      ratio: '—',
      target: '≤ 60 s',
      met: cb.generationS <= 60,
    },
    {
      scenario: `9. CSV export of the ${n(cb.count)} codes through the api`,
      figure: `${n(cb.export.codesPerSec)} codes/s (${n(cb.export.lines)} lines in ${cb.export.seconds.toFixed(1)} s${cb.export.exactLines ? ', exact' : ', NOT EXACT'}), api RSS ${cb.export.rssBeforeMb} MB before, peak ${cb.export.rssPeakMb} MB`,
      baseline: '—',
      ratio: '—',
      target: '≤ 50 MB above idle, header + every code',
      met: cb.export.rssAboveIdleMb <= 50 && cb.export.exactLines,
    },
  ];
}

export function markdown(
  res: Results,
  meta: { date: string; runId: string; totalS: number; node: string },
): string {
  const lines = [
    `Run ${meta.runId} on ${meta.date}: ${meta.totalS.toFixed(0)} s in all, Node ${meta.node}.`,
    '',
    '| scenario | figure | baseline (same run) | ratio | target | met? |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows(res).map(
      (row) =>
        `| ${row.scenario} | ${row.figure} | ${row.baseline} | ${row.ratio} | ${row.target} | ${yes(row.met)} |`,
    ),
    '',
    `Peak RSS per process (MB): ${res.rss.perProcess.map((p) => `${p.name} ${n(p.peakRssMb)}`).join(', ')}.`,
  ];
  return `${lines.join('\n')}\n`;
}
