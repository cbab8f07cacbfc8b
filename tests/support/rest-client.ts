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

/** One REST call to a fleet gateway over TLS with the fleet's certificate pinned. */
export function rest(fleet: TestFleet, method: string, path: string, opts: RestCallOptions = {}): Promise<RestReply> {
  const origin = new URL(fleet.gatewayUrl(opts.gateway ?? 0)).origin;
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
      const agent = new https.Agent({ ca: fleet.tlsCert, ALPNProtocols: ['http/1.1'], maxCachedSessions: 0 });
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
    const session = http2.connect(origin, { ca: fleet.tlsCert, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
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
