// Error catalogue of @commucat/client: every failure the library reports is a ClientError with a
// stable string code, so callers (tests, the CLI) branch on `.code` rather than on messages.

import type { JsonValue } from '@commucat/ccp1';

export type ClientErrorCode =
  /** The server answered the handshake with an Error frame (§4.7). */
  | 'HandshakeRejected'
  /** The stream or the HTTP/2 session ended (before the Ack, or while waiting for a frame). */
  | 'ConnectionClosed'
  /** Nothing arrived in time. */
  | 'Timeout'
  /** The peer broke CCP-1: undecodable bytes, a bad Noise message, a malformed Auth/Ack, … */
  | 'Protocol'
  /** TLS failed (untrusted or mismatched certificate, no h2 in ALPN, …). */
  | 'Tls'
  /** The TCP connection could not be made (refused, unreachable, DNS). */
  | 'Network'
  /** The server answered /connect or a REST call with a status other than 200. */
  | 'HttpStatus'
  /** The stored device certificate fails the real client's pre-connect checks (§6.4). */
  | 'InvalidCertificate'
  /** A saved identity (CLI state file) cannot be read or written. */
  | 'StateFile'
  /** The server answered a sent frame with an Error frame that a resend cannot fix (e.g. not_member). */
  | 'Refused';

export class ClientError extends Error {
  override name = 'ClientError';

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The handshake Error frame's properties, as the real client's UI shows them (§4.7). */
export class HandshakeRejectedError extends ClientError {
  override name = 'HandshakeRejectedError';
  /** e.g. "handshake" or "decode". */
  readonly error: string | undefined;
  /** The server error's display string, e.g. "invalid request", "pairing required". */
  readonly detail: string | undefined;
  /** e.g. "PairingRequired". */
  readonly title: string | undefined;
  readonly pairingRequired: boolean;
  /** Every property of the Error frame, unchanged. */
  readonly properties: Readonly<Record<string, JsonValue>>;

  constructor(properties: Record<string, JsonValue>) {
    const detail = stringProperty(properties, 'detail');
    const error = stringProperty(properties, 'error');
    super('HandshakeRejected', `handshake rejected: ${detail ?? error ?? 'no detail'}`);
    this.properties = properties;
    this.error = error;
    this.detail = detail;
    this.title = stringProperty(properties, 'title');
    this.pairingRequired = properties['pairing_required'] === true;
  }
}

export class ConnectionClosedError extends ClientError {
  override name = 'ConnectionClosedError';

  constructor(
    /** Why the connection ended, e.g. "remote closed" or "local close". */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super('ConnectionClosed', `connection closed: ${reason}`, options);
  }
}

/** A non-200 answer; `body` holds at most the first 64 KiB of the response body as text. */
export class HttpStatusError extends ClientError {
  override name = 'HttpStatusError';

  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super('HttpStatus', `unexpected HTTP status ${status}`);
  }
}

function stringProperty(properties: Record<string, JsonValue>, key: string): string | undefined {
  const value = properties[key];
  return typeof value === 'string' ? value : undefined;
}

const TLS_ERROR_CODE = /^(ERR_TLS_|ERR_SSL_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_|CERT_|HOSTNAME_MISMATCH)/;
const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE']);

/**
 * Maps a Node socket/TLS/http2 error to the catalogue; ClientErrors pass through unchanged. A
 * stream that was pending when its session failed reports ERR_HTTP2_STREAM_CANCEL with the real
 * reason as `cause`, so the cause chain is searched for a known code.
 */
export function toClientError(error: unknown, context: string): ClientError {
  if (error instanceof ClientError) return error;
  const message = error instanceof Error ? error.message : String(error);
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && TLS_ERROR_CODE.test(code)) {
      return new ClientError('Tls', `${context}: ${message}`, { cause: error });
    }
    if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) {
      return new ClientError('Network', `${context}: ${message}`, { cause: error });
    }
    current = (current as { cause?: unknown }).cause;
  }
  return new ConnectionClosedError(`${context}: ${message}`, { cause: error });
}
