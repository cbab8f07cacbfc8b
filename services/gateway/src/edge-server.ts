import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ConnectSession } from './connect-session.js';
import { selectConnectMode } from './connect-mode.js';
import type { GatewayContext } from './gateway-context.js';
import { sendJson, sendProblem, type AnyResponse } from './problem.js';
import type { RateLimiter } from './rate-limiter.js';

type AnyRequest = IncomingMessage | http2.Http2ServerRequest;

export interface EdgeServerOptions {
  tlsCertPath: string;
  tlsKeyPath: string;
  context: GatewayContext;
  connectLimiter: RateLimiter;
  serverInfo: () => Record<string, unknown>;
  isReady: () => boolean;
  logger: Logger;
}

/**
 * The gateway's public listener: TLS 1.3 only, ALPN h2 (the real client always speaks HTTP/2)
 * and http/1.1. Serves `/connect` and the thin REST edge.
 */
export class EdgeServer {
  private readonly server: http2.Http2SecureServer;
  private readonly sessions = new Set<ConnectSession>();

  constructor(private readonly opts: EdgeServerOptions) {
    this.server = http2.createSecureServer({
      cert: readFileSync(opts.tlsCertPath),
      key: readFileSync(opts.tlsKeyPath),
      minVersion: 'TLSv1.3',
      allowHTTP1: true,
      ALPNProtocols: ['h2', 'http/1.1'],
      // Many /connect streams share one TLS connection when a client multiplexes.
      settings: { maxConcurrentStreams: 1000 },
    });
    // Idle /connect streams are legitimate: the real client sends nothing periodically (§2.7).
    this.server.setTimeout(0);
    this.server.on('request', (req: AnyRequest, res: AnyResponse) => this.route(req, res));
    this.server.on('sessionError', (err) => opts.logger.debug({ err: err.message }, 'http2 session error'));
    this.server.on('tlsClientError', (err) => opts.logger.debug({ err: err.message }, 'tls handshake failed'));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  /** Stops accepting, ends every open /connect stream, then closes the listener. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.sessions) session.close('server shutdown');
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
  }

  private route(req: AnyRequest, res: AnyResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    if (path === '/connect' && (method === 'POST' || method === 'GET')) return this.connect(req, res, q < 0 ? '' : url.slice(q + 1));
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz') return this.opts.isReady() ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 503, { status: 'degraded' });
    if (path === '/api/server-info' && method === 'GET') {
      if (!this.opts.isReady()) return sendProblem(res, 503, 'ServiceUnavailable', 'server keys are not loaded yet');
      return sendJson(res, 200, this.opts.serverInfo());
    }
    sendProblem(res, 404, 'Not Found');
  }

  private connect(req: AnyRequest, res: AnyResponse, query: string): void {
    const remoteIp = req.socket?.remoteAddress ?? 'unknown';
    const decision = this.opts.connectLimiter.check(remoteIp);
    if (!decision.allowed) {
      this.opts.context.metrics.rateLimited.inc({ scope: 'connect' });
      return sendProblem(res, 429, 'Too Many Requests', undefined, { 'retry-after': String(decision.retryAfterSeconds) });
    }
    const mode = selectConnectMode(query, req.headers);
    if (mode !== 'binary') {
      return sendProblem(res, 501, 'NotImplemented', `connect mode ${mode} is not served yet; use the binary mode (HTTP/2 POST)`);
    }
    if (!this.opts.isReady()) return sendProblem(res, 503, 'ServiceUnavailable', 'server keys are not loaded yet');

    (res as ServerResponse).writeHead(200, {
      'content-type': 'application/octet-stream',
      'cache-control': 'no-store',
      'x-commucat-connect-mode': 'binary',
    });
    // The real client waits for these headers only after sending Hello; flush them now anyway.
    (res as ServerResponse).flushHeaders?.();

    let requestEnded = false;
    const session = new ConnectSession(this.opts.context, {
      write: (bytes) => { (res as ServerResponse).write(bytes); },
      pauseInput: () => req.pause(),
      resumeInput: () => req.resume(),
      end: () => {
        res.end();
        // Stop reading a client that keeps sending after we ended: reset the stream (h2) or
        // drop the socket (HTTP/1.1) once our response is flushed.
        res.once('finish', () => {
          if (requestEnded) return;
          if ('stream' in res && res.stream) res.stream.close(http2.constants.NGHTTP2_NO_ERROR);
          else req.socket?.destroy();
        });
      },
    }, `${remoteIp}:${req.socket?.remotePort ?? 0}`);
    this.sessions.add(session);

    req.on('data', (chunk: Buffer) => session.receive(chunk));
    req.on('end', () => { requestEnded = true; session.remoteEnded('client closed'); });
    req.on('error', () => session.remoteEnded('read error'));
    res.on('close', () => {
      session.remoteEnded('stream closed');
      this.sessions.delete(session);
    });
  }
}
