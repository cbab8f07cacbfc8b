import type { Logger } from 'pino';
import { context, extractTraceContext, type Span, SpanKind, SpanStatusCode, trace, fleetTracer } from '@commucat/telemetry';
import { readBody, JSON_BODY_LIMIT, clientIp, writeResponse, type AnyRequest, type AnyResponse, type RestResponse } from './http-io.js';
import type { ScopedRateLimiter } from './local-rate-limiter.js';
import { buildOpenApi } from './openapi.js';
import { RestError } from './problems.js';
import { OpenApiDocument } from './schemas.js';
import { compileRoute, decodePathParam, type CompiledRoute, type RequestContext, type RouteSpec } from './route.js';
import { authenticateSession, type SessionValidator } from './session-auth.js';
import type { RateScope } from './shared-rate-limiter.js';
import { parseJsonBody, validateBody } from './validation.js';

export interface RestApiOptions {
  routes: readonly RouteSpec[];
  sessions: SessionValidator;
  limiter: ScopedRateLimiter;
  version: string;
  logger: Logger;
  onRateLimited?: (scope: RateScope) => void;
}

/**
 * Dispatches every non-/connect request: route match (404 / 405), per-IP rate limit, session or
 * admin auth, per-session rate limit, body limits and schema validation, then the handler.
 */
export class RestApi {
  private readonly compiled: CompiledRoute[];
  private readonly openApiText: string;

  constructor(private readonly opts: RestApiOptions) {
    const openApiRoute: RouteSpec = {
      method: 'GET', path: '/openapi.json', operationId: 'openApi', summary: 'This document', auth: 'none',
      success: { 200: { description: 'OpenAPI 3.1 document', schema: OpenApiDocument } }, problems: [],
      handle: async () => ({ status: 200, raw: this.openApiText }),
    };
    const all = [...opts.routes, openApiRoute];
    this.compiled = all.flatMap((spec) => [spec.path, ...(spec.aliases ?? [])].map((path) => compileRoute(spec, path)));
    this.openApiText = JSON.stringify(buildOpenApi(all, opts.version));
  }

  get routes(): readonly CompiledRoute[] {
    return this.compiled;
  }

  /**
   * One SERVER span per request, continuing the caller's traceparent (a federation peer sends
   * its dispatch span's); the gRPC calls the handler makes are its children.
   */
  handle(req: AnyRequest, res: AnyResponse): void {
    const method = req.method ?? 'GET';
    const parent = extractTraceContext(req.headers as Record<string, string | string[] | undefined>, context.active());
    const span = fleetTracer().startSpan(method, {
      kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': pathOf(req) ?? '/', 'url.scheme': 'https' },
    }, parent);
    const done = (status: number) => {
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    context.with(trace.setSpan(parent, span), () => this.dispatch(req, span)).then(
      (out) => {
        writeResponse(res, out);
        done(out.status);
      },
      (err: unknown) => {
        if (!(err instanceof RestError)) context.with(trace.setSpan(parent, span), () => this.opts.logger.error({ err, path: pathOf(req) }, 'REST handler failed'));
        const problem = err instanceof RestError ? err : RestError.of('internal', 'internal server error');
        if (err instanceof RestError) span.setAttribute('commucat.problem', problem.status >= 500 ? 'server' : 'client');
        else span.recordException(err instanceof Error ? err : String(err));
        writeResponse(res, { status: problem.status, body: problem.body(), contentType: 'application/problem+json', headers: problem.headers });
        done(problem.status);
      },
    );
  }

  private async dispatch(req: AnyRequest, span: Span): Promise<RestResponse> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const onPath = this.compiled.map((route) => ({ route, match: route.pattern.exec(path) })).filter((m) => m.match !== null);
    const hit = onPath.find((m) => m.route.spec.method === method);
    if (!hit) {
      req.resume();
      // Unknown paths keep the reference's plain 404 shape; a known path with the wrong method says so.
      if (onPath.length === 0) return { status: 404, body: { type: 'about:blank', title: 'Not Found', status: 404 }, contentType: 'application/problem+json' };
      const allow = [...new Set(onPath.map((m) => m.route.spec.method))].join(', ');
      throw RestError.of('method-not-allowed', `use ${allow}`, { allow });
    }
    const spec = hit.route.spec;
    span.updateName(`${spec.method} ${hit.route.path}`);
    span.setAttribute('http.route', hit.route.path);
    const ip = clientIp(req);
    if (!spec.unlimited) await this.limit('http', ip);
    if (spec.extraLimit) await this.limit(spec.extraLimit, ip);

    const session = spec.auth === 'session' ? await authenticateSession(req, this.opts.sessions) : undefined;
    if (session) await this.limit('session', session.tokenHash);

    const params: Record<string, string> = {};
    hit.route.paramNames.forEach((name, i) => {
      const raw = hit.match![i + 1]!;
      const value = spec.decodeParams ? decodePathParam(raw) : raw;
      if (value === undefined) throw RestError.of('invalid-path', `${name}: invalid percent-encoding`);
      params[name] = value;
    });

    const ctx: RequestContext = { req, params, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), ip, session, body: {} };
    if (spec.body?.kind === 'json') {
      const raw = await readBody(req, JSON_BODY_LIMIT);
      if (raw.length === 0 || raw.toString('utf8').trim().length === 0) {
        if (!spec.body.optional) throw RestError.of('invalid-json', 'a JSON body is required');
        ctx.body = validateBody(spec.body.schema, {});
      } else {
        ctx.body = validateBody(spec.body.schema, parseJsonBody(raw));
      }
    } else if (spec.body?.kind === 'binary') {
      ctx.body = await readBody(req, spec.body.maxBytes);
    } else {
      req.resume();
    }
    return spec.handle(ctx);
  }

  private async limit(scope: RateScope, identity: string): Promise<void> {
    const decision = await this.opts.limiter.check(scope, identity);
    if (decision.allowed) return;
    this.opts.onRateLimited?.(scope);
    throw RestError.of('rate-limited', 'slow down', { 'retry-after': String(decision.retryAfterSeconds) });
  }
}

const pathOf = (req: AnyRequest) => (req.url ?? '/').split('?')[0];
