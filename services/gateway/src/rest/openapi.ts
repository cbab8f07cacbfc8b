import { z } from 'zod';
import { PROBLEM_CODES, PROBLEM_TYPE_BASE, type ProblemCode } from './problems.js';
import type { RouteSpec } from './route.js';
import { restSchemas } from './schemas.js';

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** The component id of a registered schema, or its inline JSON Schema. */
function schemaRef(schema: z.ZodType): Record<string, unknown> {
  const id = restSchemas.get(schema)?.id;
  if (id) return ref(id);
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** Problems every route of a kind can produce, on top of the route's own. */
function problemCodes(route: RouteSpec): ProblemCode[] {
  const codes = new Set<ProblemCode>(['rate-limited', 'internal', 'unavailable', ...route.problems]);
  if (route.auth === 'session') ['missing-authorization', 'invalid-session', 'forbidden'].forEach((c) => codes.add(c as ProblemCode));
  if (route.body?.kind === 'json') ['invalid-json', 'invalid-field', 'unknown-field', 'body-too-large', 'bad-request'].forEach((c) => codes.add(c as ProblemCode));
  if (route.body?.kind === 'binary') ['body-too-large', 'bad-request', 'unsupported-media-type'].forEach((c) => codes.add(c as ProblemCode));
  if (route.decodeParams) codes.add('invalid-path');
  if (route.extraLimit) codes.add('rate-limited');
  return [...codes];
}

function operation(route: RouteSpec) {
  const responses: Record<string, unknown> = {};
  for (const [status, doc] of Object.entries(route.success)) {
    responses[status] = doc.schema
      ? { description: doc.description, content: { 'application/json': { schema: schemaRef(doc.schema) } } }
      : doc.contentType ? { description: doc.description, content: { [doc.contentType]: { schema: { type: 'string', format: 'binary' } } } } : { description: doc.description };
  }
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of problemCodes(route)) {
    const { status } = PROBLEM_CODES[code];
    if (responses[status]) continue;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    responses[String(status)] = {
      description: `problem: ${codes.map((c) => `${PROBLEM_TYPE_BASE}${c}`).join(', ')} (directory may use its own codes)`,
      content: { 'application/problem+json': { schema: ref('Problem') } },
      ...(status === 429 ? { headers: { 'Retry-After': { schema: { type: 'integer', minimum: 1 } } } } : {}),
    };
  }
  const op: Record<string, unknown> = { operationId: route.operationId, summary: route.summary, responses };
  if (route.auth === 'session') op.security = [{ session: [] }];
  if (route.auth === 'admin') op.security = [{ admin: [] }];
  const params = [...route.path.matchAll(/\{([a-z_]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  if (params.length > 0) op.parameters = params;
  if (route.body?.kind === 'json') op.requestBody = { required: !route.body.optional, content: { 'application/json': { schema: schemaRef(route.body.schema) } } };
  if (route.body?.kind === 'binary') {
    op.requestBody = { required: true, content: Object.fromEntries(route.body.contentTypes.map((t) => [t, { schema: { type: 'string', format: 'binary', maxLength: route.body!.kind === 'binary' ? route.body!.maxBytes : undefined } }])) };
  }
  return op;
}

/**
 * OpenAPI 3.1 document generated from the route table and the zod schemas the handlers validate
 * with (zod's own JSON Schema output, draft 2020-12 = OpenAPI 3.1's dialect).
 */
export function buildOpenApi(routes: readonly RouteSpec[], version: string): Record<string, unknown> {
  const components = z.toJSONSchema(restSchemas, { io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Record<string, unknown>> };
  // The per-schema $id/$schema keys zod adds are noise inside a components section.
  for (const schema of Object.values(components.schemas)) {
    delete schema.$id;
    delete schema.$schema;
  }
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    for (const path of [route.path, ...(route.aliases ?? [])]) {
      const op = operation(route);
      if (path !== route.path) op.operationId = `${route.operationId}Alias${path.replace(/[^A-Za-z0-9]/g, '_')}`;
      (paths[path] ??= {})[route.method.toLowerCase()] = op;
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'CommuCat gateway REST API', version,
      description: `Errors are RFC 9457 problem+json; \`type\` is ${PROBLEM_TYPE_BASE}<code>.`,
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas: components.schemas,
      securitySchemes: {
        session: { type: 'http', scheme: 'bearer', description: 'session token from the /connect handshake (prefix optional, any case)' },
        admin: { type: 'http', scheme: 'bearer', description: 'admin.token (COMMUCAT_ADMIN_TOKEN)' },
      },
    },
  };
}
