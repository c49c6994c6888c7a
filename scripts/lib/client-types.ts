/**
 * Renders `client/src/generated.ts` from the service's OpenAPI document: a TypeScript type per
 * component schema, and per operation its method, path, parameters, body and answers. Only the
 * parts of JSON Schema the service's zod schemas produce are understood; anything else is refused,
 * so a new construct cannot slip through as `unknown`.
 */

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  description?: string;
  [key: string]: unknown;
}

interface Parameter {
  $ref?: string;
  name?: string;
  in?: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: JsonSchema;
}

interface Operation {
  operationId?: string;
  summary?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema>; parameters?: Record<string, Parameter> };
}

const ERROR_REF = '#/components/schemas/Error';
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

const quoteKey = (key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key));

function refName(ref: string): string {
  const match = /^#\/components\/(?:schemas|parameters)\/(.+)$/.exec(ref);
  if (!match?.[1]) throw new Error(`unsupported $ref ${ref}`);
  return match[1];
}

const KNOWN = new Set([
  '$ref',
  'type',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'anyOf',
  'oneOf',
  // Validation and documentation only: they do not change the type.
  'description',
  'example',
  'default',
  'format',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'pattern',
]);

/** The TypeScript type of one schema; `where` names it in errors. */
export function typeOf(schema: JsonSchema, where: string): string {
  for (const key of Object.keys(schema)) {
    if (!KNOWN.has(key)) throw new Error(`${where}: unsupported schema keyword ${key}`);
  }
  if (schema.$ref) return `Schemas[${JSON.stringify(refName(schema.$ref))}]`;
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map((part, i) => `(${typeOf(part, `${where}|${i}`)})`).join(' | ');
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  const types = schema.type === undefined ? [] : [schema.type].flat();
  if (types.length === 0) return 'unknown';
  return types.map((type) => single(type, schema, where)).join(' | ');
}

function single(type: string, schema: JsonSchema, where: string): string {
  switch (type) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      return `Array<${schema.items ? typeOf(schema.items, `${where}[]`) : 'unknown'}>`;
    case 'object':
      return objectType(schema, where);
    default:
      throw new Error(`${where}: unsupported type ${type}`);
  }
}

function objectType(schema: JsonSchema, where: string): string {
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(
    ([key, value]) =>
      `${quoteKey(key)}${required.has(key) ? '' : '?'}: ${typeOf(value, `${where}.${key}`)};`,
  );
  const extra = schema.additionalProperties;
  if (extra !== undefined && extra !== false) {
    const value = extra === true ? 'unknown' : typeOf(extra, `${where}.*`);
    fields.push(`[key: string]: ${fields.length > 0 ? 'unknown' : value};`);
  }
  return `{ ${fields.join(' ')} }`;
}

function resolveParameter(doc: OpenApiDocument, parameter: Parameter): Parameter {
  if (!parameter.$ref) return parameter;
  const found = doc.components?.parameters?.[refName(parameter.$ref)];
  if (!found) throw new Error(`unknown parameter ${parameter.$ref}`);
  return found;
}

function paramsType(params: Parameter[], where: string): string {
  if (params.length === 0) return 'never';
  const fields = params.map(
    (p) =>
      `${quoteKey(p.name ?? '')}${p.required ? '' : '?'}: ${typeOf(p.schema ?? {}, `${where}.${p.name}`)};`,
  );
  return `{ ${fields.join(' ')} }`;
}

/** The operations of the document, in its order: what the client must have a method for. */
export function operationIds(doc: OpenApiDocument): string[] {
  return Object.values(doc.paths).flatMap((ops) =>
    METHODS.flatMap((method) => (ops[method]?.operationId ? [ops[method].operationId] : [])),
  );
}

/** The source of `client/src/generated.ts` (before formatting). */
export function renderClientTypes(doc: OpenApiDocument): string {
  const out: string[] = [
    "// Generated from the service's /openapi.json by `npm run client:generate`: do not edit.",
    '// test/api/client-drift.test.ts fails when this file and the document disagree.',
    '',
    '/** Every component schema of the document. */',
    'export interface Schemas {',
  ];
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
    if (schema.description) out.push(`/** ${schema.description.replaceAll('*/', '*\\/')} */`);
    out.push(`${quoteKey(name)}: ${typeOf(schema, name)};`);
  }
  out.push('}', '');

  const table: string[] = [];
  out.push('/** Per operation: its path, query, header and body inputs, and its answers. */');
  out.push('export interface Operations {');
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = ops[method];
      if (!op) continue;
      const id = op.operationId;
      if (!id) throw new Error(`${method.toUpperCase()} ${path} has no operationId`);
      const params = (op.parameters ?? []).map((p) => resolveParameter(doc, p));
      const of = (place: string) => params.filter((p) => p.in === place);
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      const answers: string[] = [];
      const answerTypes: string[] = [];
      let text = false;
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        const json = response.content?.['application/json']?.schema;
        if (json?.$ref === ERROR_REF) continue;
        const plain =
          response.content?.['text/plain']?.schema ?? response.content?.['text/csv']?.schema;
        if (!json && plain) text = true;
        answers.push(status);
        answerTypes.push(json ? typeOf(json, `${id} ${status}`) : plain ? 'string' : 'null');
      }
      if (answers.length === 0) throw new Error(`${id} has no answer other than errors`);
      if (op.summary) out.push(`/** ${method.toUpperCase()} ${path}: ${op.summary} */`);
      out.push(`${id}: {`);
      out.push(`path: ${paramsType(of('path'), `${id} path`)};`);
      out.push(`query: ${paramsType(of('query'), `${id} query`)};`);
      out.push(`headers: ${paramsType(of('header'), `${id} headers`)};`);
      out.push(`body: ${bodySchema ? typeOf(bodySchema, `${id} body`) : 'never'};`);
      out.push(`response: ${[...new Set(answerTypes)].join(' | ')};`);
      out.push('};');
      table.push(
        `${id}: { method: '${method.toUpperCase()}', path: '${path}', answers: [${answers.join(', ')}], text: ${text} },`,
      );
    }
  }
  out.push('}', '');
  out.push(
    '/** How each operation is called: its method, path template and the statuses that answer it. */',
  );
  out.push('export const OPERATIONS = {', ...table, '} as const;', '');
  out.push('export type OperationId = keyof Operations;', '');
  return out.join('\n');
}
