import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createStack, policyBody, type Stack } from '../support/stack.js';
import { authHeaders } from '../support/tokens.js';

/** The contract's free text: tab and line breaks are allowed there. */
const FREE_TEXT = new Set(['description', 'reason']);

interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  minimum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  items?: Schema;
}
interface Parameter {
  $ref?: string;
  name: string;
  in: 'path' | 'query' | 'header';
  schema: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; parameters?: Record<string, Parameter> };
}

type Where = 'path' | 'query' | 'header' | 'json';

/** One string a request carries, found in the OpenAPI document. */
interface StringField {
  method: string;
  path: string;
  where: Where;
  name: string;
  schema: Schema;
  /** The other values of a request that carries it, valid by their schemas. */
  base: {
    path: Record<string, string>;
    query: Record<string, string>;
    header: Record<string, string>;
    json?: Record<string, unknown>;
  };
}

const isString = (s: Schema) =>
  s.type === 'string' || (Array.isArray(s.type) && s.type.includes('string'));

/** A value its schema accepts (the request's other fields must not be the reason for a 400). */
function validValue(schema: Schema, doc: Doc): unknown {
  if (schema.$ref) return validValue(resolve(schema, doc), doc);
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) return validValue(schema.anyOf[0] as Schema, doc);
  if (isString(schema)) {
    if (schema.format === 'uuid') return randomUUID();
    if (schema.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
    if (schema.pattern) return undefined;
    return 'ok';
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'integer' || type === 'number') return Math.max(1, schema.minimum ?? 1);
  if (type === 'boolean') return true;
  if (type === 'object') return validObject(schema, doc);
  return undefined;
}

function validObject(schema: Schema, doc: Doc): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const name of schema.required ?? []) {
    object[name] = validValue(schema.properties?.[name] as Schema, doc);
  }
  return object;
}

function resolve<T extends { $ref?: string }>(item: T, doc: Doc): T {
  if (!item.$ref) return item;
  const [, , kind, name] = item.$ref.split('/');
  const table = doc.components[kind as 'schemas' | 'parameters'] as Record<string, T> | undefined;
  const found = table?.[name as string];
  if (!found) throw new Error(`unresolved ${item.$ref}`);
  return found;
}

/** Every string of every documented route: path, query and header parameters, body properties. */
function stringFields(doc: Doc): StringField[] {
  const fields: StringField[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const parameters = (operation.parameters ?? []).map((p) => resolve(p, doc));
      const base: StringField['base'] = { path: {}, query: {}, header: {} };
      // Optional query and header parameters stay out: only the one under attack is sent.
      for (const p of parameters) {
        if (p.in === 'path') base.path[p.name] = String(validValue(p.schema, doc));
      }
      const bodySchema = operation.requestBody?.content['application/json']?.schema;
      const bodyVariants = bodySchema
        ? (resolve(bodySchema, doc).anyOf ?? [resolve(bodySchema, doc)]).map((s) => resolve(s, doc))
        : [];
      const common = { method: method.toUpperCase(), path };
      if (bodyVariants[0]) base.json = validObject(bodyVariants[0], doc);
      for (const p of parameters) {
        const schema = resolve(p.schema, doc);
        if (isString(schema)) fields.push({ ...common, where: p.in, name: p.name, schema, base });
      }
      for (const variant of bodyVariants) {
        const json = validObject(variant, doc);
        for (const [name, property] of Object.entries(variant.properties ?? {})) {
          const schema = resolve(property, doc);
          const strings = schema.anyOf ? schema.anyOf.filter(isString) : [schema].filter(isString);
          const stringSchema = strings[0];
          if (stringSchema) {
            fields.push({
              ...common,
              where: 'json',
              name,
              schema: stringSchema,
              base: { ...base, json },
            });
          }
        }
      }
    }
  }
  return fields;
}

/** Characters no stored string may hold, by where a client can put them. */
const NOT_STORABLE = ['\u0000', '\u0001', '\u001b', '\u007f', '\u0085', '\u009f'];
const NOT_IN_NAMES = ['\t', '\n', '\r'];
const LONE_SURROGATES = ['\ud800', '\udfff', '\udbff'];

function send(stack: Stack, field: StringField, value: string, headers: Record<string, string>) {
  const { base } = field;
  const pathValues = { ...base.path, ...(field.where === 'path' && { [field.name]: value }) };
  const url = field.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(pathValues[name] ?? ''),
  );
  const query = new URLSearchParams({
    ...base.query,
    ...(field.where === 'query' && { [field.name]: value }),
  }).toString();
  const body =
    base.json === undefined
      ? undefined
      : { ...base.json, ...(field.where === 'json' && { [field.name]: value }) };
  return stack.app.request(query ? `${url}?${query}` : url, {
    method: field.method,
    headers: {
      ...headers,
      ...base.header,
      ...(field.where === 'header' && { [field.name]: value }),
    },
    // JSON.stringify writes a lone surrogate as its escape (`"\ud800"`), as a hostile client would.
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

const fieldName = (field: StringField) =>
  field.where === 'header'
    ? `header.${field.name.toLowerCase()}`
    : `${field.where === 'path' ? 'param' : field.where}.${field.name}`;

describe('every string a request carries', () => {
  let stack: Stack;
  let fields: StringField[];
  let headers: Record<string, string>;
  beforeAll(async () => {
    stack = await createStack();
    headers = await authHeaders('attacker', 'admin');
    const doc = (await (await stack.app.request('/openapi.json')).json()) as Doc;
    fields = stringFields(doc);
  });
  afterAll(() => stack.close());

  it('finds the strings of the documented routes, each with a documented bound', () => {
    const names = new Set(fields.map((f) => `${f.method} ${f.path} ${f.where}.${f.name}`));
    for (const expected of [
      'POST /v1/policies json.name',
      'POST /v1/policies json.description',
      'POST /v1/issuances json.userId',
      'POST /v1/issuances json.code',
      'POST /v1/issuances header.Idempotency-Key',
      'POST /v1/coupons/{couponId}/cancel json.reason',
      'POST /v1/coupons/{couponId}/reserve json.orderId',
      'GET /v1/jobs/{jobId} path.jobId',
      'GET /v1/coupons query.userId',
      'GET /v1/policies query.cursor',
    ]) {
      expect(names).toContain(expected);
    }
    for (const field of fields.filter((f) => !f.schema.enum)) {
      expect(field.schema.maxLength, `${field.method} ${field.path} ${field.name}`).toBeTypeOf(
        'number',
      );
    }
  });

  it('answers 400 VALIDATION_ERROR naming the field for a character that cannot be stored, never a 5xx', {
    timeout: 240_000,
  }, async () => {
    for (const field of fields) {
      // A URL or a header cannot carry a lone surrogate (it has no UTF-8 form): a JSON body can.
      const bad = [
        ...NOT_STORABLE,
        ...(FREE_TEXT.has(field.name) ? [] : NOT_IN_NAMES),
        ...(field.where === 'json' ? LONE_SURROGATES : []),
      ].filter((c) => field.where !== 'header' || !['\u0000', '\n', '\r'].includes(c));
      await fc.assert(
        fc.asyncProperty(
          fc.string({ maxLength: 5 }).filter((s) => /^[a-z0-9]*$/i.test(s)),
          fc.constantFrom(...bad),
          fc.string({ maxLength: 5 }).filter((s) => /^[a-z0-9]*$/i.test(s)),
          async (before, char, after) => {
            // HTTP drops white space at either end of a header value: the character goes inside.
            const value =
              field.where === 'header' ? `k${before}${char}${after}k` : `${before}${char}${after}`;
            const res = await send(stack, field, value, headers);
            const label = `${field.method} ${field.path} ${field.where}.${field.name} = ${JSON.stringify(value)}`;
            expect(res.status, label).toBe(400);
            const body = (await res.json()) as {
              error: { code: string; details?: { field: string; message: string }[] };
            };
            expect(body.error.code, label).toBe('VALIDATION_ERROR');
            expect(
              body.error.details?.map((d) => d.field),
              label,
            ).toContain(fieldName(field));
          },
        ),
        { numRuns: 15 },
      );
    }
  });

  it('answers 400 naming the field for a string over its documented length', {
    timeout: 120_000,
  }, async () => {
    for (const field of fields.filter((f) => !f.schema.enum)) {
      const max = field.schema.maxLength as number;
      const res = await send(stack, field, 'a'.repeat(max + 1), headers);
      const label = `${field.method} ${field.path} ${field.where}.${field.name}`;
      expect(res.status, label).toBe(400);
      const body = (await res.json()) as { error: { details?: { field: string }[] } };
      expect(
        body.error.details?.map((d) => d.field),
        label,
      ).toContain(fieldName(field));
    }
  });

  it('keeps tab and line breaks in free text', async () => {
    const created = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ description: 'line one\n\tline two\r\n' }),
    );
    expect(created.status).toBe(201);
    expect(created.body.description).toBe('line one\n\tline two\r\n');
  });

  it('answers the issue’s own example with 400, not 500', async () => {
    const res = await stack.request(
      'POST',
      '/v1/policies',
      ADMIN,
      policyBody({ name: 'nul\u0000name' }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.details).toContainEqual({
      field: 'json.name',
      message: 'must not contain a NUL character',
    });
    const lone = await stack.app.request('/v1/policies', {
      method: 'POST',
      headers,
      body: JSON.stringify(policyBody()).replace('"Black Friday 10%"', '"lone \\ud800 half"'),
    });
    expect(lone.status).toBe(400);
    expect(((await lone.json()) as { error: { details: unknown[] } }).error.details).toContainEqual(
      {
        field: 'json.name',
        message: 'must not contain a lone surrogate (invalid UTF-16)',
      },
    );
  });
});
