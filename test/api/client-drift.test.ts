import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALIASES, CouponClient } from '../../client/src/index.js';
import { generatedSource } from '../../scripts/generate-client.js';
import { type OpenApiDocument, operationIds } from '../../scripts/lib/client-types.js';
import { openApiDocument } from '../../scripts/lib/openapi-document.js';
import { createStack, type Stack } from '../support/stack.js';

/** Members of the client that are not operations of the API. */
const NOT_OPERATIONS = new Set(['constructor', 'request', 'job']);

describe('the client and /openapi.json', () => {
  let stack: Stack;
  let served: OpenApiDocument;
  beforeAll(async () => {
    stack = await createStack();
    const res = await stack.app.request('/openapi.json');
    expect(res.status).toBe(200);
    served = (await res.json()) as OpenApiDocument;
  });
  afterAll(() => stack.close());

  it('has a method for every operationId of the document, and none the document lacks', () => {
    const aliases = new Set(Object.keys(ALIASES));
    const methods = Object.getOwnPropertyNames(CouponClient.prototype).filter(
      (name) => !NOT_OPERATIONS.has(name) && !aliases.has(name),
    );
    const operations = operationIds(served);
    expect(operations.length).toBeGreaterThan(15);
    expect({
      withoutMethod: operations.filter((id) => !methods.includes(id)),
      withoutOperation: methods.filter((name) => !operations.includes(name)),
    }).toEqual({ withoutMethod: [], withoutOperation: [] });
    for (const target of Object.values(ALIASES)) expect(operations).toContain(target);
  });

  it('has generated types that are what the served document generates (npm run client:generate)', async () => {
    const committed = readFileSync(
      new URL('../../client/src/generated.ts', import.meta.url),
      'utf8',
    );
    expect(await generatedSource(served)).toBe(committed);
  });

  it('is generated from the document the service serves: the generator builds the same one offline', async () => {
    expect(await openApiDocument()).toEqual(served);
  });
});
