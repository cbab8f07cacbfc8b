import { type ClientHttp2Session, type ClientHttp2Stream, constants as http2Constants } from 'node:http2';
import {
  CodecError,
  controlFrame,
  DEFAULT_DIALECT,
  type Dialect,
  encodeFrame,
  encodeVarint,
  type Frame,
  FrameType,
  type JsonValue,
  opaqueFrame,
} from '@commucat/ccp1';
import type { NoisePattern, NoiseTransport } from '@commucat/crypto';
import { adoptCertificateFromAck, assertStoredCertificateUsable } from './certificate-policy';
import { openConnectStream } from './connect-stream';
import { ClientError, ConnectionClosedError, HttpStatusError, toClientError } from './errors';
import { FrameInbox } from './frame-inbox';
import { FrameReader } from './frame-reader';
import { ClientHandshake, type HandshakeResult } from './handshake';
import type { DeviceIdentity } from './identity';
import { applyUserProfile } from './profile';

export interface ConnectClientOptions {
  /** `https://host:port[/connect]`; a bare origin means `/connect` (§2.3). */
  url: string;
  /** The client's profile domain, used in the ZKP context (must equal the server's). */
  domain: string;
  /** The server's Noise static public key (32 bytes), known in advance as in the real client. */
  serverStatic: Uint8Array;
  identity: DeviceIdentity;
  /** Default 'XK', the only pattern the real client can complete. */
  pattern?: NoisePattern;
  /** Noise prologue as UTF-8; default 'commucat'. */
  prologue?: string;
  /**
   * Hello `capabilities`; default ['noise', 'zstd'] like the real client. Add 'noise-transport'
   * to ask for HEAD's post-handshake Noise transport encryption.
   */
  capabilities?: string[];
  /** Shorthand that adds 'noise-transport' to the capabilities. */
  noiseTransport?: boolean;
  ca?: Buffer | string;
  /** Default true. */
  rejectUnauthorized?: boolean;
  /** Open the /connect stream on this HTTP/2 session (many connections over one TLS connection). */
  session?: ClientHttp2Session;
  /** Limit for the handshake and the default for `nextFrame`; default 10 s. */
  timeoutMs?: number;
  /** How received frames are decoded; default '1.0.103'. '1.0.41' decodes as the real client. */
  dialect?: Dialect;
  /** Tests: replace (or with undefined delete) Hello properties to provoke each server check. */
  helloOverrides?: Record<string, JsonValue | undefined>;
}

export interface ClientConnection {
  /** Properties of the server Auth frame. */
  readonly auth: Record<string, JsonValue>;
  /** The decrypted Noise msg2 payload ({} if the server sent none). */
  readonly handshakePayload: Record<string, JsonValue>;
  /** Properties of the handshake Ack. */
  readonly ack: Record<string, JsonValue>;
  /** The session id from the msg2 payload (the REST bearer token). */
  readonly session: string;
  /** True iff frames after the Ack travel as Noise transport units (HEAD's format, §3.7). */
  readonly encrypted: boolean;
  readonly pattern: NoisePattern;
  /** The identity used; updated in place with what the server told (user, certificate, CA key). */
  readonly identity: DeviceIdentity;
  /** Whether the Ack's device certificate was verified and stored into the identity. */
  readonly certificateStored: boolean;
  /** The underlying /connect stream, for tests that need to write raw bytes. */
  readonly raw: ClientHttp2Stream;
  /** Settles (never rejects) when the connection is over. */
  readonly closed: Promise<{ reason: string }>;
  readonly isClosed: boolean;
  /** One counter for all channels, starting at 3 after Hello (1) and Auth (2) (§4.9). */
  nextSequence(): number;
  /** Encodes and sends a frame (as one Noise unit when encrypted). */
  send(frame: Frame): void;
  /** Sends a control frame with the next sequence number; returns that sequence. */
  sendControl(type: FrameType, channel: number, value: JsonValue): number;
  /** Sends an opaque frame with the next sequence number; returns that sequence. */
  sendOpaque(type: FrameType, channel: number, bytes: Uint8Array): number;
  /** Sends arbitrary bytes where frame bytes go (inside one Noise unit when encrypted). */
  sendBytes(bytes: Uint8Array): void;
  /**
   * Received frames in order. Ends when the connection closes; throws ClientError('Protocol') for
   * undecodable bytes (after which the buffer is cleared, as the real client does).
   */
  frames(): AsyncIterableIterator<Frame>;
  /** The next frame; rejects with ConnectionClosedError, ClientError('Timeout') or ('Protocol'). */
  nextFrame(timeoutMs?: number): Promise<Frame>;
  /** Ends the request stream with END_STREAM (like the real client) and waits for the close. */
  close(): Promise<void>;
}

const DEFAULT_CAPABILITIES: readonly string[] = ['noise', 'zstd'];
const NOISE_TRANSPORT_CAPABILITY = 'noise-transport';
const DEFAULT_TIMEOUT_MS = 10_000;
/** How long close() waits for the server to end its side before cancelling the stream. */
const CLOSE_GRACE_MS = 2_000;
/** The real client's counter after Hello (seq 1) and its Auth (seq 2). */
const FIRST_APPLICATION_SEQUENCE = 3;
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * Opens /connect and runs the handshake exactly as the real client does (§2.3, §3.3, §4); resolves
 * once the server's Ack with `"handshake":"ok"` arrived.
 */
export async function connectClient(options: ConnectClientOptions): Promise<ClientConnection> {
  const pattern = options.pattern ?? 'XK';
  if (pattern !== 'XK' && pattern !== 'IK') throw new ClientError('Protocol', `unsupported Noise pattern ${String(pattern)}`);
  const capabilities = [...(options.capabilities ?? DEFAULT_CAPABILITIES)];
  if (options.noiseTransport === true && !capabilities.includes(NOISE_TRANSPORT_CAPABILITY)) capabilities.push(NOISE_TRANSPORT_CAPABILITY);
  assertStoredCertificateUsable(options.identity, nowSeconds());

  const handshake = new ClientHandshake({
    identity: options.identity,
    domain: options.domain,
    serverStatic: options.serverStatic,
    pattern,
    prologue: options.prologue ?? 'commucat',
    capabilities,
    ...(options.helloOverrides === undefined ? {} : { helloOverrides: options.helloOverrides }),
  });
  let stream: ClientHttp2Stream;
  try {
    stream = openConnectStream(options.url, {
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
      ...(options.session === undefined ? {} : { session: options.session }),
    });
  } catch (error) {
    throw toClientError(error, 'open /connect');
  }
  return new Connection(stream, handshake, {
    identity: options.identity,
    askedForNoiseTransport: capabilities.includes(NOISE_TRANSPORT_CAPABILITY),
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    dialect: options.dialect ?? DEFAULT_DIALECT,
  }).established;
}

interface ConnectionSettings {
  identity: DeviceIdentity;
  askedForNoiseTransport: boolean;
  timeoutMs: number;
  dialect: Dialect;
}

type Phase = 'handshake' | 'open' | 'closed';

class Connection implements ClientConnection {
  readonly established: Promise<ClientConnection>;
  readonly closed: Promise<{ reason: string }>;
  readonly identity: DeviceIdentity;
  readonly pattern: NoisePattern;
  certificateStored = false;

  private phase: Phase = 'handshake';
  private result: HandshakeResult | undefined;
  private transport: NoiseTransport | undefined;
  private sequence = FIRST_APPLICATION_SEQUENCE;
  private closing = false;
  private closeReason: string | undefined;
  private readonly reader: FrameReader;
  private readonly inbox = new FrameInbox();
  private readonly handshakeTimer: NodeJS.Timeout;
  private resolveEstablished!: (connection: ClientConnection) => void;
  private rejectEstablished!: (error: ClientError) => void;
  private resolveClosed!: (outcome: { reason: string }) => void;
  /** Set when the /connect answer is not 200: its body is collected for the error instead. */
  private errorStatus: number | undefined;
  private errorBody: Buffer[] = [];

  constructor(
    readonly raw: ClientHttp2Stream,
    private readonly handshake: ClientHandshake,
    private readonly settings: ConnectionSettings,
  ) {
    this.identity = settings.identity;
    this.pattern = handshake.pattern;
    this.reader = new FrameReader(settings.dialect);
    this.established = new Promise((resolve, reject) => {
      this.resolveEstablished = resolve;
      this.rejectEstablished = reject;
    });
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.handshakeTimer = setTimeout(() => {
      this.failHandshake(new ClientError('Timeout', `handshake not finished within ${settings.timeoutMs} ms`));
    }, settings.timeoutMs);

    raw.on('response', (headers) => {
      const status = Number(headers[':status']);
      if (status !== 200 && this.phase === 'handshake') this.errorStatus = status;
    });
    raw.on('data', (chunk: Buffer) => this.onData(chunk));
    raw.on('end', () => this.onEnd());
    raw.on('error', (error) => this.onStreamError(error));
    raw.on('close', () => this.onStreamClose());
    // The real client sends Hello first and only then waits for the response headers (§2.3).
    raw.write(encodeFrame(handshake.hello));
  }

  get auth(): Record<string, JsonValue> {
    return this.handshakeResult().auth;
  }

  get handshakePayload(): Record<string, JsonValue> {
    return this.handshakeResult().handshakePayload;
  }

  get ack(): Record<string, JsonValue> {
    return this.handshakeResult().ack;
  }

  get session(): string {
    return this.handshakeResult().session;
  }

  get encrypted(): boolean {
    return this.transport !== undefined;
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  nextSequence(): number {
    return this.sequence++;
  }

  send(frame: Frame): void {
    this.sendBytes(encodeFrame(frame));
  }

  sendControl(type: FrameType, channel: number, value: JsonValue): number {
    const sequence = this.nextSequence();
    this.send(controlFrame(type, channel, sequence, value));
    return sequence;
  }

  sendOpaque(type: FrameType, channel: number, bytes: Uint8Array): number {
    const sequence = this.nextSequence();
    this.send(opaqueFrame(type, channel, sequence, bytes));
    return sequence;
  }

  sendBytes(bytes: Uint8Array): void {
    if (this.phase !== 'open' || this.raw.destroyed || this.raw.writableEnded) {
      throw new ConnectionClosedError(this.closeReason ?? 'connection is not open');
    }
    if (this.transport === undefined) {
      this.raw.write(bytes);
      return;
    }
    let ciphertext: Buffer;
    try {
      ciphertext = this.transport.encrypt(bytes);
    } catch (error) {
      // HEAD has no fragmentation: one frame must fit one Noise message (§3.7).
      throw new ClientError('Protocol', `cannot send as one Noise transport message: ${(error as Error).message}`, { cause: error });
    }
    this.raw.write(Buffer.concat([encodeVarint(ciphertext.length), ciphertext]));
  }

  async *frames(): AsyncIterableIterator<Frame> {
    for (;;) {
      let frame: Frame;
      try {
        frame = await this.inbox.next(Infinity);
      } catch (error) {
        if (error instanceof ConnectionClosedError) return;
        throw error;
      }
      yield frame;
    }
  }

  nextFrame(timeoutMs: number = this.settings.timeoutMs): Promise<Frame> {
    return this.inbox.next(timeoutMs);
  }

  async close(): Promise<void> {
    if (this.phase === 'open' && !this.raw.destroyed) {
      this.closing = true;
      if (!this.raw.writableEnded) this.raw.end();
      const timer = setTimeout(() => this.raw.close(http2Constants.NGHTTP2_CANCEL), CLOSE_GRACE_MS);
      await this.closed;
      clearTimeout(timer);
      return;
    }
    if (!this.raw.destroyed) this.raw.close(http2Constants.NGHTTP2_CANCEL);
    await this.closed;
  }

  private handshakeResult(): HandshakeResult {
    if (this.result === undefined) throw new ClientError('Protocol', 'handshake not finished');
    return this.result;
  }

  private onData(chunk: Buffer): void {
    if (this.errorStatus !== undefined) {
      if (this.errorBody.reduce((n, b) => n + b.length, 0) < MAX_ERROR_BODY_BYTES) this.errorBody.push(chunk);
      return;
    }
    if (this.phase === 'closed') return;
    this.reader.push(chunk);
    this.pump();
  }

  /** Decodes every complete frame; the wire format may switch between two frames (after the Ack). */
  private pump(): void {
    while (this.phase !== 'closed') {
      let frame: Frame | undefined;
      try {
        frame = this.reader.next();
      } catch (error) {
        this.onReadError(error);
        continue;
      }
      if (frame === undefined) return;
      if (this.phase === 'handshake') this.onHandshakeFrame(frame);
      else this.inbox.push(frame);
    }
  }

  private onReadError(error: unknown): void {
    if (this.phase === 'handshake') {
      // The real client aborts the connection on any decode error during the handshake (§1.9).
      this.failHandshake(error instanceof ClientError ? error : new ClientError('Protocol', `decode error: ${(error as Error).message}`, { cause: error }));
      return;
    }
    if (error instanceof CodecError) {
      // After the handshake the real client reports the error, clears its buffer and goes on.
      this.reader.discardBufferedFrames();
      this.inbox.push(new ClientError('Protocol', `decode error: ${error.code}`, { cause: error }));
      return;
    }
    // A bad Noise unit cannot be skipped: the nonces would no longer line up.
    this.finish(`protocol error: ${(error as Error).message}`);
    this.raw.close(http2Constants.NGHTTP2_PROTOCOL_ERROR);
  }

  private onHandshakeFrame(frame: Frame): void {
    let step;
    try {
      step = this.handshake.handle(frame);
    } catch (error) {
      this.failHandshake(error instanceof ClientError ? error : new ClientError('Protocol', (error as Error).message, { cause: error }));
      return;
    }
    switch (step.kind) {
      case 'reply':
        this.raw.write(encodeFrame(step.frame));
        return;
      case 'progress':
        return;
      case 'unrelated':
        this.inbox.push(frame);
        return;
      case 'established':
        this.onEstablished(step.result);
        return;
    }
  }

  private onEstablished(result: HandshakeResult): void {
    const serverEncrypts = result.ack['transport_encryption'] === 'noise';
    if (serverEncrypts && !this.settings.askedForNoiseTransport) {
      this.failHandshake(new ClientError('Protocol', 'server switched to Noise transport encryption that was not asked for'));
      return;
    }
    if (serverEncrypts) {
      this.transport = this.handshake.split();
      this.reader.useNoiseTransport(this.transport);
    }
    this.result = result;
    applyUserProfile(this.identity, result.handshakePayload['user']);
    this.certificateStored = adoptCertificateFromAck(this.identity, result.ack, nowSeconds());
    clearTimeout(this.handshakeTimer);
    this.phase = 'open';
    this.resolveEstablished(this);
  }

  private onEnd(): void {
    if (this.errorStatus !== undefined && this.phase === 'handshake') {
      this.failHandshake(new HttpStatusError(this.errorStatus, Buffer.concat(this.errorBody).toString('utf8')));
      return;
    }
    if (this.phase === 'handshake') {
      this.failHandshake(new ConnectionClosedError('remote closed before the handshake finished'));
      return;
    }
    this.finish('remote closed');
    // Our half may still be open; END_STREAM lets the stream close cleanly.
    if (!this.raw.writableEnded && !this.raw.destroyed) this.raw.end();
  }

  private onStreamError(error: unknown): void {
    const mapped = toClientError(error, '/connect stream');
    if (this.phase === 'handshake') this.failHandshake(mapped);
    else this.finish(`error: ${mapped.message}`);
  }

  private onStreamClose(): void {
    if (this.phase === 'handshake') {
      const status = this.errorStatus;
      this.failHandshake(
        status !== undefined
          ? new HttpStatusError(status, Buffer.concat(this.errorBody).toString('utf8'))
          : new ConnectionClosedError(`stream closed before the handshake finished (RST code ${this.raw.rstCode ?? 'none'})`),
      );
      return;
    }
    this.finish('stream closed');
  }

  private failHandshake(error: ClientError): void {
    if (this.phase !== 'handshake') return;
    clearTimeout(this.handshakeTimer);
    this.phase = 'closed';
    this.closeReason = error.message;
    this.inbox.close(error.message);
    this.rejectEstablished(error);
    this.resolveClosed({ reason: error.message });
    if (!this.raw.destroyed) this.raw.close(http2Constants.NGHTTP2_CANCEL);
  }

  private finish(reason: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.closeReason = this.closing ? 'local close' : reason;
    this.inbox.close(this.closeReason);
    this.resolveClosed({ reason: this.closeReason });
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
