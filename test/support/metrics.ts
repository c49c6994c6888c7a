import { expect } from 'vitest';

/**
 * Prometheus text → `name{labels}` → value, refusing any line that is not a comment or a sample.
 * prom-client writes NaN as `Nan` (Prometheus reads either).
 */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|Nan|\+Inf|-Inf)$/.exec(line);
    if (!match?.[1] || match[2] === undefined) throw new Error(`not Prometheus text: ${line}`);
    samples.set(match[1], Number(match[2]));
  }
  return samples;
}

/** GET /metrics of an app, parsed, with the declared type of each metric. */
export async function scrape(app: { request(path: string): Response | Promise<Response> }) {
  const res = await app.request('/metrics');
  expect(res.status).toBe(200);
  const text = await res.text();
  const types = new Map(
    [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
  return { samples: parsePrometheus(text), types };
}
