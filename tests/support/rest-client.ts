import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { TestFleet } from './fleet';

export interface RestReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON (undefined when empty or not JSON). */
  json: any;
}

export interface RestCallOptions {
  gateway?: number;
  body?: string | Buffer | object;
  token?: string;
  headers?: Record<string, string>;
  /** Use HTTP/1.1 instead of HTTP/2 (the real client's protocol). */
  h1?: boolean;
  /** Source address, e.g. 127.0.0.2: another client IP for the per-IP limits. */
  localAddress?: string;
}

function reply(status: number, headers: RestReply['headers'], raw: Buffer): RestReply {
  const text = raw.toString('utf8');
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status, headers, text, json };
}

/** A gateway by URL: its TLS trust (a pinned certificate, or none checked). */
export interface RestTarget {
  readonly url: string;
  readonly ca?: Buffer;
  readonly rejectUnauthorized?: boolean;
}

/** One REST call to a fleet gateway over TLS with the fleet's certificate pinned. */
export function rest(fleet: TestFleet, method: string, path: string, opts: RestCallOptions = {}): Promise<RestReply> {
  return restTo({ url: fleet.gatewayUrl(opts.gateway ?? 0), ca: fleet.tlsCert }, method, path, opts);
}

/** One REST call to any gateway (a deployed one, for the cluster suite). */
export function restTo(target: RestTarget, method: string, path: string, opts: RestCallOptions = {}): Promise<RestReply> {
  const origin = new URL(target.url).origin;
  const tls = {
    ...(target.ca === undefined ? {} : { ca: target.ca }),
    ...(target.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: target.rejectUnauthorized }),
  };
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: Buffer | undefined;
  if (opts.body !== undefined) {
    body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    headers['content-type'] ??= 'application/json';
  }
  if (opts.h1) {
    return new Promise((resolve, reject) => {
      const url = new URL(origin);
      const agent = new https.Agent({ ...tls, ALPNProtocols: ['http/1.1'], maxCachedSessions: 0 });
      const req = https.request({ host: url.hostname, port: url.port, method, path, agent, headers, localAddress: opts.localAddress }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(reply(res.statusCode!, res.headers, Buffer.concat(chunks))));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  return new Promise((resolve, reject) => {
    const session = http2.connect(origin, { ...tls, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    session.on('error', reject);
    // Node ends GET streams at once unless told a body follows.
    const stream = session.request({ ':method': method, ':path': path, 'user-agent': 'commucat-cli-client/0.1', ...headers }, { endStream: body === undefined });
    let head: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => { head = h; });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      session.close();
      resolve(reply(Number(head[':status']), head as RestReply['headers'], Buffer.concat(chunks)));
    });
    stream.on('error', (err) => { session.close(); reject(err); });
    stream.end(body);
  });
}
