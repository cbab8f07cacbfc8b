import { readFile } from 'node:fs/promises';
import { type JsonValue, stringifyJson } from '@commucat/ccp1';
import { hexToBytes } from '@commucat/crypto';
import { type ClientConnection, connectClient } from '../connection';
import { ClientError, HandshakeRejectedError, HttpStatusError } from '../errors';
import { createDeviceIdentity, type DeviceIdentity } from '../identity';
import { loadIdentityState, saveIdentityState } from '../identity-state';
import { isJsonObject } from '../json-object';
import { fetchServerInfo, serverStaticFromInfo } from '../server-info';
import { frameLine } from './frame-line';

export interface ConnectCommandOptions {
  url: string;
  /** Required unless server-info is fetched (then its `domain` is used). */
  domain?: string;
  /** Hex; fetched from /api/server-info (`noise_public`) when absent, as the real client's init does. */
  serverStatic?: string;
  handle?: string;
  /** Keeps seed, device id, profile and certificate between runs (mode 0600). */
  stateFile?: string;
  /** Accept any TLS certificate (self-signed loopback gateways). */
  insecure?: boolean;
  /** PEM file of a CA to trust. */
  caFile?: string;
  ik?: boolean;
  noiseTransport?: boolean;
  prologue?: string;
}

export interface CommandIo {
  /** One line of stdout (no trailing newline). */
  out(line: string): void;
  /** One line of stderr. */
  err(line: string): void;
  /** Aborted on Ctrl-C: the command closes the connection cleanly and returns. */
  signal: AbortSignal;
}

/**
 * `commucat connect`: handshake, one summary line, then one JSON line per received frame until the
 * signal aborts or the server closes. Returns the process exit code. Never prints the seed or the
 * full session token.
 */
export async function runConnectCommand(options: ConnectCommandOptions, io: CommandIo): Promise<number> {
  try {
    const tls = {
      rejectUnauthorized: options.insecure !== true,
      ...(options.caFile === undefined ? {} : { ca: await readFile(options.caFile) }),
    };
    const { domain, serverStatic } = await resolveServer(options, tls);
    const identity = await loadOrCreateIdentity(options);
    const presentedCertificate = identity.certificate !== undefined;

    const connection = await connectClient({
      url: options.url,
      domain,
      serverStatic,
      identity,
      pattern: options.ik === true ? 'IK' : 'XK',
      noiseTransport: options.noiseTransport === true,
      ...(options.prologue === undefined ? {} : { prologue: options.prologue }),
      ...tls,
    });
    if (options.stateFile !== undefined) await saveIdentityState(options.stateFile, identity);
    io.out(stringifyJson(connectedSummary(connection, presentedCertificate), { sortKeys: false }));
    return await printFrames(connection, io);
  } catch (error) {
    io.err(stringifyJson(errorSummary(error), { sortKeys: false }));
    return 1;
  }
}

async function resolveServer(
  options: ConnectCommandOptions,
  tls: { rejectUnauthorized: boolean; ca?: Buffer },
): Promise<{ domain: string; serverStatic: Buffer }> {
  if (options.serverStatic !== undefined) {
    if (options.domain === undefined) throw new ClientError('Protocol', '--domain is required with --server-static');
    return { domain: options.domain, serverStatic: hexToBytes(options.serverStatic.trim(), 32) };
  }
  const fromInfo = serverStaticFromInfo(await fetchServerInfo(options.url, tls));
  return { domain: options.domain ?? fromInfo.domain, serverStatic: fromInfo.serverStatic };
}

/** Command-line values win over stored ones; a new identity is saved at once so its device id sticks. */
async function loadOrCreateIdentity(options: ConnectCommandOptions): Promise<DeviceIdentity> {
  const stored = options.stateFile === undefined ? undefined : await loadIdentityState(options.stateFile);
  const identity = stored ?? createDeviceIdentity();
  if (options.handle !== undefined) identity.handle = options.handle;
  if (stored === undefined && options.stateFile !== undefined) await saveIdentityState(options.stateFile, identity);
  return identity;
}

function connectedSummary(connection: ClientConnection, presentedCertificate: boolean): Record<string, JsonValue> {
  const { ack, identity } = connection;
  const summary: Record<string, JsonValue> = {
    event: 'connected',
    pattern: connection.pattern,
    encrypted: connection.encrypted,
    device_id: identity.deviceId,
    user_id: identity.userId ?? null,
    handle: identity.handle ?? null,
    // The session id is the REST bearer token: show just enough to tell sessions apart.
    session_prefix: connection.session.slice(0, 6),
    session_length: connection.session.length,
    pairing_required: ack['pairing_required'] === true,
    certificate_presented: presentedCertificate,
    certificate_stored: connection.certificateStored,
  };
  const certificate = ack['certificate'];
  if (isJsonObject(certificate)) {
    summary['certificate'] = {
      serial: certificate['serial'] ?? null,
      issued_at: certificate['issued_at'] ?? null,
      expires_at: certificate['expires_at'] ?? null,
    };
  }
  for (const key of ['keepalive_interval', 'noise_key_version', 'transport_encryption']) {
    const value = ack[key];
    if (value !== undefined) summary[key] = value;
  }
  return summary;
}

async function printFrames(connection: ClientConnection, io: CommandIo): Promise<number> {
  const onAbort = (): void => {
    void connection.close();
  };
  if (io.signal.aborted) onAbort();
  else io.signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      try {
        for await (const frame of connection.frames()) io.out(frameLine(frame));
        break;
      } catch (error) {
        // A decode error: the client dropped its buffer (as the real one does) and reads on.
        io.err(stringifyJson(errorSummary(error), { sortKeys: false }));
      }
    }
  } finally {
    io.signal.removeEventListener('abort', onAbort);
  }
  const { reason } = await connection.closed;
  io.out(stringifyJson({ event: 'closed', reason }, { sortKeys: false }));
  return 0;
}

function errorSummary(error: unknown): Record<string, JsonValue> {
  const code = (error as { code?: unknown } | null)?.code;
  const summary: Record<string, JsonValue> = {
    event: 'error',
    code: typeof code === 'string' ? code : 'Unexpected',
    message: error instanceof Error ? error.message : String(error),
  };
  if (error instanceof HandshakeRejectedError) {
    summary['title'] = error.title ?? null;
    summary['detail'] = error.detail ?? null;
    summary['pairing_required'] = error.pairingRequired;
  }
  if (error instanceof HttpStatusError) summary['status'] = error.status;
  return summary;
}
