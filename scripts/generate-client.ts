/**
 * Writes client/src/generated.ts from the service's OpenAPI document (`npm run client:generate`);
 * with `--check`, writes nothing and exits 1 when the file is out of date.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderClientTypes } from './lib/client-types.js';
import { openApiDocument } from './lib/openapi-document.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const GENERATED = 'client/src/generated.ts';

/** The generated file as it should read: rendered, then formatted by the project's Biome. */
export async function generatedSource(doc?: Parameters<typeof renderClientTypes>[0]) {
  const source = renderClientTypes(doc ?? (await openApiDocument()));
  return execFileSync(
    `${ROOT}node_modules/.bin/biome`,
    ['format', `--stdin-file-path=${GENERATED}`],
    {
      cwd: ROOT,
      input: source,
      encoding: 'utf8',
    },
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const fresh = await generatedSource();
  const path = `${ROOT}${GENERATED}`;
  if (process.argv.includes('--check')) {
    const current = readFileSync(path, 'utf8');
    if (current !== fresh) {
      console.error(`${GENERATED} is out of date: run npm run client:generate`);
      process.exit(1);
    }
    console.log(`${GENERATED} is up to date`);
  } else {
    writeFileSync(path, fresh);
    console.log(`wrote ${GENERATED}`);
  }
}
