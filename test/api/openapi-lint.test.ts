import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, type Stack } from '../support/stack.js';

/**
 * Warnings of the recommended rules that the document keeps on purpose, each with its reason.
 * Anything else the linter reports fails the test.
 */
const ACCEPTED_WARNINGS: { ruleId: string; pointer: string; why: string }[] = [
  ...['/health', '/ready', '/metrics'].map((path) => ({
    ruleId: 'operation-4xx-response',
    pointer: `#/paths/${path.replace('/', '~1')}/get/responses`,
    why: 'public probes take no input and no token: no client error exists to declare',
  })),
];

interface Problem {
  ruleId: string;
  severity: 'error' | 'warn' | 'warning';
  message: string;
  location: { pointer: string }[];
}

/** Redocly CLI (a devDependency, pinned) with its recommended rules, on a document file. */
async function redoclyLint(file: string) {
  const cli = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');
  const child = spawn(
    process.execPath,
    [cli, 'lint', file, '--extends', 'recommended', '--format', 'json'],
    {
      // No telemetry and no update check: the suite reaches no host but its own.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));
  await once(child, 'exit');
  const start = out.indexOf('{');
  if (start < 0) throw new Error(`redocly printed no report:\n${out}\n${err}`);
  return JSON.parse(out.slice(start)) as { totals: { errors: number }; problems: Problem[] };
}

describe('GET /openapi.json under an independent OpenAPI linter', () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    stack = await createStack();
    dir = await mkdtemp(join(tmpdir(), 'coupon-openapi-'));
  });
  afterAll(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes Redocly’s recommended rules: no error, only the warnings accepted above', async () => {
    const res = await stack.app.request('/openapi.json');
    const file = join(dir, 'openapi.json');
    await writeFile(file, await res.text());
    const report = await redoclyLint(file);
    const describe = (p: Problem) =>
      `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`;
    expect(report.problems.filter((p) => p.severity === 'error').map(describe)).toEqual([]);
    const unexpected = report.problems.filter(
      (p) =>
        !ACCEPTED_WARNINGS.some(
          (w) => w.ruleId === p.ruleId && w.pointer === p.location[0]?.pointer,
        ),
    );
    expect(unexpected.map(describe)).toEqual([]);
    expect(report.totals.errors).toBe(0);
  });

  it('names every operation with a unique operationId and a tag', async () => {
    const doc = (await (await stack.app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { operationId?: string; tags?: string[] }>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ name: `${method} ${path}`, ...op })),
    );
    const ids = operations.map((op) => op.operationId);
    expect(operations.filter((op) => !/^[a-z][A-Za-z]+$/.test(op.operationId ?? ''))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operations.filter((op) => op.tags?.length !== 1).map((op) => op.name)).toEqual([]);
  });
});
