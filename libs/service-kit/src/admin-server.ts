import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from '@commucat/telemetry';
import type { Logger } from 'pino';
import type { ReadinessReport } from './readiness';

export type RuntimeState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface AdminHandlers {
  readonly serviceName: string;
  readonly registry: Registry;
  readonly logger: Logger;
  state(): RuntimeState;
  checkReadiness(): Promise<ReadinessReport>;
}

function sendJson(res: ServerResponse, statusCode: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** RFC 9457 problem details. */
function sendProblem(res: ServerResponse, statusCode: number, title: string, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  sendJson(res, statusCode, { type: 'about:blank', title, status: statusCode }, 'application/problem+json');
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: AdminHandlers): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const known = path === '/healthz' || path === '/readyz' || path === '/metrics';
  if (!known) return sendProblem(res, 404, 'Not Found');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendProblem(res, 405, 'Method Not Allowed', { allow: 'GET, HEAD' });
  }

  if (path === '/healthz') {
    // Liveness only: never touches dependencies, so a slow database cannot get the pod killed.
    return sendJson(res, 200, { status: 'ok', service: deps.serviceName, uptime_seconds: Math.floor(process.uptime()) });
  }

  if (path === '/readyz') {
    const state = deps.state();
    if (state !== 'running') {
      return sendJson(res, 503, { status: state === 'created' || state === 'starting' ? 'starting' : 'stopping', checks: {} });
    }
    const report = await deps.checkReadiness();
    return sendJson(res, report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'degraded', checks: report.checks });
  }

  const text = await deps.registry.metrics();
  res.writeHead(200, { 'content-type': deps.registry.contentType, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : text);
}

/** The admin HTTP server: /healthz, /readyz, /metrics; problem+json for everything else. */
export function createAdminServer(deps: AdminHandlers): Server {
  return createServer((req, res) => {
    handle(req, res, deps).catch((error: unknown) => {
      deps.logger.error({ err: error, url: req.url }, 'admin request failed');
      if (!res.headersSent) sendProblem(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });
}
