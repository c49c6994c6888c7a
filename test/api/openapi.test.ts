import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, type Stack } from '../support/stack.js';

describe('GET /openapi.json', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack();
  });
  afterAll(() => stack.close());

  it('documents every route the app mounts, from the schemas that validate them', async () => {
    const res = await stack.app.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    const mounted = new Set(
      stack.app.routes
        .filter(
          (route) =>
            route.method !== 'ALL' &&
            route.path !== '/openapi.json' &&
            // bull-board's own UI and its internal API are the operators' page, not the service's API.
            !route.path.startsWith('/admin/queues') &&
            // The documentation page itself.
            !route.path.startsWith('/docs'),
        )
        .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    expect(mounted.size).toBeGreaterThan(10);
    expect([...mounted].filter((route) => !documented.has(route))).toEqual([]);
    expect(documented).toContain('POST /v1/issuances');
    const issuance = doc.paths['/v1/issuances']?.post as {
      requestBody: unknown;
      parameters: unknown[];
    };
    expect(JSON.stringify(issuance.requestBody)).toContain('#/components/schemas/IssuanceRequest');
    // The Idempotency-Key header, checked in the handlers, is documented from its schema.
    expect(issuance.parameters).toContainEqual({ $ref: '#/components/parameters/IdempotencyKey' });
    const components = doc.components as {
      parameters?: Record<string, { schema?: { $ref?: string } }>;
      schemas: Record<string, unknown>;
    };
    const parameter = components.parameters?.IdempotencyKey;
    expect(parameter).toMatchObject({ name: 'Idempotency-Key', in: 'header', required: false });
    const schemaName = parameter?.schema?.$ref?.split('/').pop() ?? '';
    expect(components.schemas[schemaName]).toMatchObject({
      type: 'string',
      minLength: 1,
      maxLength: 200,
    });
    expect(JSON.stringify(doc.components.schemas.IssuanceRequest)).toContain('policyId');
  });
});
