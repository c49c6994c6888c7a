import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { parseEnv } from '../../src/infra/config/env.js';

export const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/** A temp dir (removed after the file's tests) with a PEM CA file and a file that is not PEM. */
export function certificateFiles(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `coupon-${name}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, PEM);
  const notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'hello');
  return { dir, caFile, notPem };
}

/** Expects `parseEnv(vars)` to stop with exactly one line: `Invalid environment variable <line>`. */
export const refused = (vars: Record<string, string>, line: string) =>
  expect(() => parseEnv(vars)).toThrow(new RegExp(`^Invalid environment variable ${line}$`));
