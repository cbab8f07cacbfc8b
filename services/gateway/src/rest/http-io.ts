import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { RestError } from './problems.js';

export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;

export const JSON_BODY_LIMIT = 64 * 1024;
export const AVATAR_BODY_LIMIT = 5 * 1024 * 1024;
/** Past this many bytes of an oversized body we stop draining and drop the connection/stream. */
const DRAIN_LIMIT = 16 * 1024 * 1024;

/**
 * Reads a request body into memory, refusing (413) as soon as it is known to exceed `limit`:
 * from Content-Length up front, or while streaming. The rest of an oversized body is drained
 * (up to a bound) so the client can read the 413 instead of seeing a reset.
 */
export function readBody(req: AnyRequest, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  return new Promise((resolve, reject) => {
    const tooLarge = () => RestError.of('body-too-large', `request body exceeds ${limit} bytes`);
    if (Number.isFinite(declared) && declared > limit) {
      drain(req);
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        drain(req, size);
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = () => {
      cleanup();
      reject(RestError.of('bad-request', 'request body could not be read'));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function drain(req: AnyRequest, already = 0): void {
  let seen = already;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DRAIN_LIMIT) req.destroy();
  });
  req.on('error', () => undefined);
  req.resume();
}

export interface RestResponse {
  status: number;
  /** Serialised with JSON.stringify unless `raw` is given. */
  body?: unknown;
  /** Pre-serialised body (JSON text with lossless numbers, or binary). */
  raw?: Buffer | string;
  contentType?: string;
  headers?: Record<string, string>;
}

export function writeResponse(res: AnyResponse, out: RestResponse): void {
  if (res.headersSent || res.writableEnded) return;
  const hasBody = out.status !== 204 && (out.raw !== undefined || out.body !== undefined);
  const payload = !hasBody ? undefined : out.raw !== undefined ? out.raw : JSON.stringify(out.body);
  const headers: Record<string, string | number> = {
    'cache-control': 'no-store',
    // JSON and uploaded images alike: never let a browser sniff a different type.
    'x-content-type-options': 'nosniff',
    ...out.headers,
  };
  if (payload !== undefined) {
    headers['content-type'] = out.contentType ?? 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  (res as ServerResponse).writeHead(out.status, headers);
  if (payload === undefined) res.end();
  else res.end(payload);
}

/** The client's address without the port (limits are per IP, not per connection). */
export function clientIp(req: AnyRequest): string {
  const address = req.socket?.remoteAddress ?? 'unknown';
  // IPv4 clients on a dual-stack socket appear as ::ffff:a.b.c.d.
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
