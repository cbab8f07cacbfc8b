import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import { ClientError } from './errors';

export interface TlsOptions {
  /** Extra trusted CA certificate(s) (PEM), e.g. the gateway's self-signed certificate. */
  ca?: Buffer | string;
  /** Default true; tests pass false for the self-signed loopback certificate. */
  rejectUnauthorized?: boolean;
}

export interface OpenConnectStreamOptions extends TlsOptions {
  /** Open the stream on this HTTP/2 session instead of a new TLS connection (it stays open). */
  session?: ClientHttp2Session;
  /** Default POST, like the real client. */
  method?: 'POST' | 'GET';
  /** Added to the real client's request headers, replacing any with the same name. */
  headers?: OutgoingHttpHeaders;
}

/** The real client's User-Agent (§2.3). */
export const CLIENT_USER_AGENT = 'CommuCat-CLI/0.1';

/**
 * The request path the real client uses (§2.3): the URL's path and query when the path is not
 * `/`, otherwise `/connect`.
 */
export function connectPath(url: URL): string {
  return url.pathname === '/' || url.pathname === '' ? '/connect' : `${url.pathname}${url.search}`;
}

export function parseServerUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new ClientError('Protocol', `invalid server URL: ${url}`, { cause: error });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new ClientError('Protocol', `server URL must be https:// (got ${parsed.protocol})`);
  }
  return parsed;
}

/**
 * A new HTTP/2 session (TLS with ALPN h2 for https URLs). Its errors also reach every stream
 * opened on it, so the session-level listener only keeps them from becoming uncaught.
 */
export function openHttp2Session(url: URL, tls: TlsOptions): ClientHttp2Session {
  const options: http2.SecureClientSessionOptions = {};
  if (tls.ca !== undefined) options.ca = tls.ca;
  if (tls.rejectUnauthorized !== undefined) options.rejectUnauthorized = tls.rejectUnauthorized;
  const session = http2.connect(url.origin, options);
  session.on('error', () => {});
  return session;
}

/**
 * Opens a `/connect` request stream exactly as the real client does (§2.3) — POST, content-type
 * application/octet-stream, its user-agent, `te: trailers`, request body left open — and returns
 * the raw duplex stream: writes go up as request body bytes, reads are response body bytes. With
 * no `session` the stream gets its own TLS connection, closed when the stream closes.
 */
export function openConnectStream(url: string, options: OpenConnectStreamOptions = {}): ClientHttp2Stream {
  const parsed = parseServerUrl(url);
  const ownSession = options.session === undefined;
  const session = options.session ?? openHttp2Session(parsed, options);
  const headers: OutgoingHttpHeaders = {
    ':method': options.method ?? 'POST',
    ':path': connectPath(parsed),
    'content-type': 'application/octet-stream',
    'user-agent': CLIENT_USER_AGENT,
    te: 'trailers',
    ...options.headers,
  };
  // endStream false: the request body stays open until the client disconnects.
  const stream = session.request(headers, { endStream: false });
  if (ownSession) stream.once('close', () => session.close());
  return stream;
}
