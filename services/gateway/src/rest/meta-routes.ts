import { RestError } from './problems.js';
import type { RestDeps } from './rest-deps.js';
import type { RouteSpec } from './route.js';
import { HealthResponse, ReadyResponse, SecuritySnapshot, ServerInfoResponse } from './schemas.js';
import { checkAdminToken, isAdminToken } from './session-auth.js';

/** Probes, server info, and the two admin-only routes. `/openapi.json` is added by the API itself. */
export function metaRoutes(deps: RestDeps): RouteSpec[] {
  const requireAdmin = async (req: Parameters<typeof isAdminToken>[0]): Promise<void> => {
    if (deps.adminTokens) {
      const verdict = await checkAdminToken(req, deps.adminTokens);
      if (verdict === 'not-configured') throw RestError.of('not-found', 'resource not found');
      if (verdict === 'refused') throw RestError.of('admin-required', 'admin token required', { 'www-authenticate': 'Bearer' });
      return;
    }
    // Without a configured token these routes do not exist (no unauthenticated counters, §11.8).
    if (deps.adminToken === undefined) throw RestError.of('not-found', 'resource not found');
    if (!isAdminToken(req, deps.adminToken)) throw RestError.of('admin-required', 'admin token required', { 'www-authenticate': 'Bearer' });
  };
  return [
    {
      method: 'GET', path: '/healthz', operationId: 'health', summary: 'Liveness (no dependency checks, no counters)', auth: 'none', unlimited: true,
      success: { 200: { description: 'alive', schema: HealthResponse } }, problems: [],
      async handle() { return { status: 200, body: { status: 'ok' } }; },
    },
    {
      method: 'GET', path: '/readyz', operationId: 'ready', summary: 'Readiness: Noise keys loaded', auth: 'none', unlimited: true,
      success: { 200: { description: 'ready', schema: ReadyResponse }, 503: { description: 'not ready', schema: ReadyResponse } }, problems: [],
      async handle() { return deps.isReady() ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { status: 'degraded' } }; },
    },
    {
      method: 'GET', path: '/api/server-info', aliases: ['/api/server/info'], operationId: 'serverInfo', summary: 'Domain, Noise keys, device CA and policies',
      auth: 'none', success: { 200: { description: 'server info', schema: ServerInfoResponse } }, problems: ['unavailable'],
      async handle() {
        if (!deps.isReady()) throw RestError.of('unavailable', 'server keys are not loaded yet');
        return { status: 200, body: deps.serverInfo() };
      },
    },
    {
      method: 'GET', path: '/metrics', operationId: 'metrics', summary: 'Prometheus metrics (admin bearer; 404 when no admin token is configured)',
      auth: 'admin', success: { 200: { description: 'Prometheus text exposition', contentType: 'text/plain; version=0.0.4' } }, problems: ['admin-required', 'not-found', 'unavailable'],
      async handle({ req }) {
        await requireAdmin(req);
        return { status: 200, raw: await deps.metrics.text(), contentType: deps.metrics.contentType };
      },
    },
    {
      method: 'GET', path: '/api/security-stats', operationId: 'securityStats', summary: 'Security counters (admin bearer; 404 when no admin token is configured)',
      auth: 'admin', success: { 200: { description: 'counters', schema: SecuritySnapshot } }, problems: ['admin-required', 'not-found', 'unavailable'],
      async handle({ req }) {
        await requireAdmin(req);
        return { status: 200, body: await deps.security.snapshot() };
      },
    },
  ];
}
