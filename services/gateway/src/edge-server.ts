import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { ConnectSession } from './connect-session.js';
import { selectConnectMode } from './connect-mode.js';
import type { GatewayContext } from './gateway-context.js';
import { sendProblem, type AnyResponse } from './problem.js';
import { openHttpConnectSink } from './http-connect.js';
import type { RateLimiter } from './rate-limiter.js';
import { WebSocketConnect, refuseUpgrade, websocketUpgradeProblem } from './websocket-connect.js';

type AnyRequest = IncomingMessage | http2.Http2ServerRequest;

export interface EdgeServerOptions {
  tlsCertPath: string;
  tlsKeyPath: string;
  context: GatewayContext;
  connectLimiter: RateLimiter;
  /** Everything but /connect: probes, server info, the REST API (see rest/rest-api.ts). */
  rest: { handle(req: AnyRequest, res: AnyResponse): void };
  isReady: () => boolean;
  logger: Logger;
}

/**
 * The gateway's public listener: TLS 1.3 only, ALPN h2 (the real client always speaks HTTP/2)
 * and http/1.1. Serves `/connect` in all four modes and the thin REST edge.
 */
export class EdgeServer {
  private readonly server: http2.Http2SecureServer;
  private readonly sessions = new Set<ConnectSession>();
  private readonly websocket = new WebSocketConnect();

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
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
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
    this.websocket.close();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
  }

  private route(req: AnyRequest, res: AnyResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    if (path === '/connect' && (method === 'POST' || method === 'GET')) return this.connect(req, res, q < 0 ? '' : url.slice(q + 1));
    this.opts.rest.handle(req, res);
  }

  /** Applies the /connect rate limit; false (after answering 429) when the client is over it. */
  private admit(remoteIp: string, refuse: (retryAfterSeconds: number) => void): boolean {
    const decision = this.opts.connectLimiter.check(remoteIp);
    if (decision.allowed) return true;
    this.opts.context.metrics.rateLimited.inc({ scope: 'connect' });
    refuse(decision.retryAfterSeconds);
    return false;
  }

  private connect(req: AnyRequest, res: AnyResponse, query: string): void {
    const remoteIp = req.socket?.remoteAddress ?? 'unknown';
    const tooMany = (retry: number) => sendProblem(res, 429, 'Too Many Requests', undefined, { 'retry-after': String(retry) });
    if (!this.admit(remoteIp, tooMany)) return;
    const mode = selectConnectMode(query, req.headers);
    if (mode === 'websocket') {
      // A WebSocket handshake on HTTP/1.1 arrives as an upgrade, not here (spec §2.6).
      if (req.httpVersionMajor >= 2) return sendProblem(res, 400, 'BadRequest', 'WebSocket mode needs HTTP/1.1');
      return sendProblem(res, method(req) === 'GET' ? 400 : 405, method(req) === 'GET' ? 'BadRequest' : 'MethodNotAllowed', 'WebSocket mode needs a GET with Upgrade: websocket');
    }
    if (!this.opts.isReady()) return sendProblem(res, 503, 'ServiceUnavailable', 'server keys are not loaded yet');

    let requestEnded = false;
    const sink = openHttpConnectSink(req, res, mode, this.opts.context.keepaliveIntervalSeconds, () => requestEnded);
    const session = this.track(new ConnectSession(this.opts.context, sink, `${remoteIp}:${req.socket?.remotePort ?? 0}`));
    req.on('data', (chunk: Buffer) => session.receive(chunk));
    req.on('end', () => { requestEnded = true; session.remoteEnded('client closed'); });
    req.on('error', () => session.remoteEnded('read error'));
    res.on('close', () => this.untrack(session, 'stream closed'));
  }

  /** HTTP/1.1 upgrade requests: WebSocket mode of /connect, or a refusal. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path !== '/connect') return refuseUpgrade(socket, 404, 'Not Found', 'no such path');
    const remoteIp = req.socket.remoteAddress ?? 'unknown';
    if (!this.admit(remoteIp, (retry) => refuseUpgrade(socket, 429, 'Too Many Requests', 'slow down', { 'retry-after': String(retry) }))) return;
    const mode = selectConnectMode(q < 0 ? '' : url.slice(q + 1), req.headers);
    if (mode !== 'websocket') return refuseUpgrade(socket, 400, 'BadRequest', `connect mode ${mode} does not upgrade`);
    const problem = websocketUpgradeProblem(req);
    if (problem) return refuseUpgrade(socket, problem.status, problem.status === 405 ? 'MethodNotAllowed' : 'BadRequest', problem.detail);
    if (!this.opts.isReady()) return refuseUpgrade(socket, 503, 'ServiceUnavailable', 'server keys are not loaded yet');
    this.websocket.accept(req, socket, head, (sink, attach) => {
      const session = this.track(new ConnectSession(this.opts.context, sink, `${remoteIp}:${req.socket.remotePort ?? 0}`));
      attach({
        bytes: (chunk) => session.receive(chunk),
        ended: (reason) => this.untrack(session, reason),
      });
    });
  }

  private track(session: ConnectSession): ConnectSession {
    this.sessions.add(session);
    return session;
  }

  private untrack(session: ConnectSession, reason: string): void {
    session.remoteEnded(reason);
    this.sessions.delete(session);
  }
}

const method = (req: AnyRequest): string => req.method ?? 'GET';
