// A small but real CCP-1 responder for the client's tests: TLS + HTTP/2, the Noise responder of
// @commucat/crypto, ZKP and certificate checks, the optional Noise transport. It records what the
// client sent so tests can check the bytes the client put on the wire. It is a peer implementing
// the protocol, not a mock of the client's internals: it shares no code with src/.

import { randomBytes } from 'node:crypto';
import http2, { type Http2SecureServer, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import {
  controlFrame,
  decodeVarint,
  encodeFrame,
  encodeVarint,
  type Frame,
  FrameStreamDecoder,
  FrameType,
  type JsonValue,
  stringifyJson,
} from '@commucat/ccp1';
import {
  bytesToHex,
  certificateFromJson,
  certificateToJson,
  type DeviceCertificate,
  DeviceKeyPair,
  hexToBytes,
  NoiseHandshake,
  NoiseStaticKey,
  type NoiseTransport,
  signCertificate,
  verifyCertificate,
  verifyZkp,
  zkpFromJson,
  zkpHandshakeContext,
} from '@commucat/crypto';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

type Props = Record<string, JsonValue>;

/** What the responder does with a Hello. */
export type HelloVerdict =
  | { kind: 'accept' }
  /** Answer with this Error frame (channel 0, seq 1) and drop the stream, as the reference does. */
  | { kind: 'reject'; error: Props }
  /** End the response without a word. */
  | { kind: 'end' }
  /** Never answer. */
  | { kind: 'silent' };

export interface TestGatewayOptions {
  domain?: string;
  prologue?: string;
  /** Channel for the server Auth (the reference copies Hello's channel, 0). */
  authChannel?: number;
  onHello?: (hello: Props) => HelloVerdict;
  /** Answer /connect with this status and a problem+json body instead of speaking CCP-1. */
  connectStatus?: number;
  /** Honour the 'noise-transport' capability (default true). */
  supportNoiseTransport?: boolean;
  /** Extra Ack properties (undefined deletes one). */
  ackOverrides?: (connection: GatewayConnection) => Record<string, JsonValue | undefined>;
  /** Frames written right after the Ack, in the same write (so they arrive in the Ack's chunk). */
  afterAck?: (connection: GatewayConnection) => Frame[];
  /** Serial for certificates this responder issues; default above 2^53 like the reference. */
  certificateSerial?: bigint;
  /** Frames sent before the Auth (the real client passes them to its UI). */
  beforeAuth?: Frame[];
  /** Answer /api/server-info with this status (default 200 and the info JSON). */
  serverInfoStatus?: number;
  /** Sent when the client's request body ends, just before the response ends. */
  farewellOnEnd?: Frame;
  /** Replace the Noise msg2 payload text (default: the reference's JSON, §4.4). */
  msg2Payload?: (standard: string) => string;
}

export class GatewayConnection {
  readonly headers: IncomingHttpHeaders;
  hello: Frame | undefined;
  clientAuth: Frame | undefined;
  serverAuthChannel = 0;
  session = '';
  userId = '';
  zkpValid = false;
  /** XK: whether the static key in msg3 equals Hello's client_static (the check the reference lacks). */
  msg3StaticMatchesHello: boolean | undefined;
  presentedCertificate: DeviceCertificate | undefined;
  presentedCertificateValid = false;
  established = false;
  encrypted = false;
  /** Frames received after the Ack, in order. */
  readonly received: Frame[] = [];
  /** Raw chunks received after the Ack (before decryption). */
  readonly receivedChunks: Buffer[] = [];
  requestEnded = false;
  /** The client reset the stream instead of ending its request body. */
  aborted = false;
  closed = false;

  transport: NoiseTransport | undefined;
  private sequence = 1;

  constructor(
    readonly stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
  ) {
    this.headers = headers;
  }

  nextSequence(): number {
    return this.sequence++;
  }

  /** Bytes for one frame in the current wire format (a Noise unit once encrypted). */
  wireBytes(frame: Frame): Buffer {
    const plain = encodeFrame(frame);
    if (this.transport === undefined || !this.encrypted) return plain;
    const ciphertext = this.transport.encrypt(plain);
    return Buffer.concat([encodeVarint(ciphertext.length), ciphertext]);
  }

  send(frame: Frame): void {
    this.stream.write(this.wireBytes(frame));
  }

  sendRaw(bytes: Uint8Array): void {
    this.stream.write(bytes);
  }

  end(): void {
    this.stream.end();
  }
}

export class TestGateway {
  readonly connections: GatewayConnection[] = [];
  /** Headers of every request, in arrival order. */
  readonly requests: IncomingHttpHeaders[] = [];
  readonly serverKey = NoiseStaticKey.generate();
  readonly ca = DeviceKeyPair.generate();
  readonly domain: string;
  /** TLS connections accepted (streams share them when the client reuses a session). */
  tlsConnections = 0;
  url = '';
  readonly tls: TlsFixture;
  private readonly server: Http2SecureServer;
  private readonly openSockets = new Set<import('node:net').Socket>();

  private constructor(readonly options: TestGatewayOptions) {
    this.domain = options.domain ?? 'example.org';
    this.tls = createTlsFixture();
    this.server = http2.createSecureServer({ key: this.tls.key, cert: this.tls.cert });
    this.server.on('secureConnection', (socket) => {
      this.tlsConnections++;
      this.openSockets.add(socket);
      socket.on('close', () => this.openSockets.delete(socket));
    });
    this.server.on('stream', (stream, headers) => this.onStream(stream, headers));
  }

  static async start(options: TestGatewayOptions = {}): Promise<TestGateway> {
    const gateway = new TestGateway(options);
    await new Promise<void>((resolve) => gateway.server.listen(0, '127.0.0.1', resolve));
    gateway.url = `https://127.0.0.1:${(gateway.server.address() as AddressInfo).port}`;
    return gateway;
  }

  async close(): Promise<void> {
    for (const socket of this.openSockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Waits (polling) until `predicate` holds; throws after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('condition not reached in time');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => {});
    this.requests.push(headers);
    if (headers[':path'] === '/api/server-info' && this.options.serverInfoStatus !== undefined) {
      stream.respond({ ':status': this.options.serverInfoStatus, 'content-type': 'application/problem+json' });
      stream.end('{"status":503,"title":"Service Unavailable","type":"about:blank"}');
      return;
    }
    if (headers[':path'] === '/api/server-info') {
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(
        stringifyJson({
          domain: this.domain,
          noise_public: bytesToHex(this.serverKey.publicKey),
          device_ca_public: bytesToHex(this.ca.publicKey),
          supported_patterns: ['XK', 'IK'],
          supported_versions: [1],
          pairing: { auto_approve: true, max_auto_devices: 5, pairing_ttl: 300 },
          u64_probe: 18446744073709551615n,
        }),
      );
      return;
    }
    if (headers[':path'] !== '/connect') {
      stream.respond({ ':status': 404, 'content-type': 'application/problem+json' });
      stream.end('{"status":404,"title":"Not Found","type":"about:blank"}');
      return;
    }
    if (this.options.connectStatus !== undefined) {
      stream.respond({ ':status': this.options.connectStatus, 'content-type': 'application/problem+json' });
      stream.end(`{"status":${this.options.connectStatus},"title":"Too Many Requests","type":"about:blank"}`);
      return;
    }
    const connection = new GatewayConnection(stream, headers);
    this.connections.push(connection);
    // Like HEAD, headers go out at once, before anything is read (§2.3).
    stream.respond({
      ':status': 200,
      'content-type': 'application/octet-stream',
      'cache-control': 'no-store',
      'x-commucat-connect-mode': 'binary',
    });
    new ResponderSession(this, connection).attach();
  }
}

/** The responder state machine for one /connect stream. */
class ResponderSession {
  private readonly decoder = new FrameStreamDecoder();
  private stage: 'hello' | 'await-client-auth' | 'open' | 'dead' = 'hello';
  private noise: NoiseHandshake | undefined;
  private wantsNoise = false;
  private clientStatic: Buffer = Buffer.alloc(0);
  private units = Buffer.alloc(0);
  private unitPlaintext = new FrameStreamDecoder();
  private ackSequence = 3;

  constructor(
    private readonly gateway: TestGateway,
    private readonly connection: GatewayConnection,
  ) {}

  attach(): void {
    const { stream } = this.connection;
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => {
      this.connection.requestEnded = true;
      // The reference ends its response when the client's request body ends (§2.8).
      if (stream.destroyed || stream.writableEnded) return;
      const farewell = this.gateway.options.farewellOnEnd;
      if (farewell !== undefined && this.connection.established) this.connection.send(farewell);
      stream.end();
    });
    stream.on('aborted', () => {
      this.connection.aborted = true;
    });
    stream.on('close', () => {
      this.connection.closed = true;
    });
  }

  private onData(chunk: Buffer): void {
    if (this.stage === 'dead') return;
    if (this.stage === 'open') {
      this.connection.receivedChunks.push(chunk);
      if (this.connection.encrypted) this.onUnits(chunk);
      else for (const frame of this.decoder.push(chunk)) this.onApplicationFrame(frame);
      return;
    }
    for (const frame of this.decoder.push(chunk)) {
      if (this.stage === 'hello') this.onHello(frame);
      else if (this.stage === 'await-client-auth') this.onClientAuth(frame);
      else if (this.stage === 'open') this.onApplicationFrame(frame);
    }
  }

  private onHello(frame: Frame): void {
    const connection = this.connection;
    connection.hello = frame;
    const hello = frame.payload.kind === 'control' ? (frame.payload.value as Props) : {};
    const verdict = this.gateway.options.onHello?.(hello) ?? { kind: 'accept' };
    if (verdict.kind === 'silent') {
      this.stage = 'dead';
      return;
    }
    if (verdict.kind === 'end') {
      this.stage = 'dead';
      connection.stream.end();
      return;
    }
    if (verdict.kind === 'reject') return this.reject(verdict.error);

    const deviceId = hello['device_id'] as string;
    const devicePublic = hexToBytes(hello['device_public'] as string, 32);
    this.clientStatic = hexToBytes(hello['client_static'] as string, 32);
    const context = zkpHandshakeContext(this.gateway.domain, deviceId, devicePublic, this.clientStatic);
    connection.zkpValid = verifyZkp(devicePublic, context, zkpFromJson(hello['zkp']));
    if (!connection.zkpValid) return this.reject({ detail: 'invalid request', error: 'handshake' });

    const pattern = hello['pattern'] as 'XK' | 'IK';
    // No expected remote static here: for XK the test compares msg3's key with Hello itself.
    this.noise = new NoiseHandshake({
      pattern,
      initiator: false,
      prologue: Buffer.from(this.gateway.options.prologue ?? 'commucat', 'utf8'),
      staticKey: this.gateway.serverKey,
    });
    try {
      this.noise.readMessage(hexToBytes(hello['handshake'] as string));
    } catch {
      return this.reject({ detail: 'invalid request', error: 'handshake' });
    }

    if (hello['certificate'] !== undefined) {
      connection.presentedCertificate = certificateFromJson(hello['certificate']);
      connection.presentedCertificateValid = verifyCertificate(connection.presentedCertificate, this.gateway.ca.publicKey);
    }
    const capabilities = Array.isArray(hello['capabilities']) ? hello['capabilities'] : [];
    this.wantsNoise = capabilities.includes('noise-transport') && this.gateway.options.supportNoiseTransport !== false;

    const user = (hello['user'] ?? {}) as Props;
    const handle = typeof user['handle'] === 'string' ? user['handle'] : 'anonymous';
    connection.userId = connection.presentedCertificate?.userId ?? `user-${handle}`;
    connection.session = randomBytes(32).toString('hex');
    const userSnapshot: Props = { avatar_url: null, display_name: null, handle, id: connection.userId, user_id: connection.userId };
    const payload = stringifyJson({
      domain: this.gateway.domain,
      protocol_version: 1,
      session: connection.session,
      user: userSnapshot,
      user_id: connection.userId,
    });
    const payloadText = this.gateway.options.msg2Payload?.(payload) ?? payload;
    const message2 = this.noise.writeMessage(Buffer.from(payloadText, 'utf8'));
    for (const early of this.gateway.options.beforeAuth ?? []) connection.sendRaw(encodeFrame(early));
    connection.serverAuthChannel = this.gateway.options.authChannel ?? frame.channel;
    connection.sendRaw(
      encodeFrame(
        controlFrame(FrameType.Auth, connection.serverAuthChannel, connection.nextSequence(), {
          device_id: deviceId,
          handshake: bytesToHex(message2),
          protocol_version: 1,
          server_static: bytesToHex(this.gateway.serverKey.publicKey),
          session: connection.session,
          supported_versions: [1],
        }),
      ),
    );
    if (pattern === 'IK') this.establish();
    else this.stage = 'await-client-auth';
  }

  private onClientAuth(frame: Frame): void {
    this.connection.clientAuth = frame;
    const handshakeHex = frame.payload.kind === 'control' ? (frame.payload.value as Props)['handshake'] : undefined;
    if (frame.type !== FrameType.Auth || typeof handshakeHex !== 'string') {
      return this.reject({ detail: 'invalid request', error: 'handshake' });
    }
    try {
      (this.noise as NoiseHandshake).readMessage(hexToBytes(handshakeHex));
    } catch {
      return this.reject({ detail: 'crypto failure', error: 'handshake' });
    }
    this.connection.msg3StaticMatchesHello = (this.noise as NoiseHandshake).remoteStatic?.equals(this.clientStatic) === true;
    this.establish();
  }

  private establish(): void {
    const connection = this.connection;
    const certificate = this.certificateForAck();
    const ack: Props = {
      certificate: { expires_at: certificate.expiresAt, issued_at: certificate.issuedAt, serial: certificate.serial },
      device_ca_public: bytesToHex(this.gateway.ca.publicKey),
      device_certificate: certificateToJson(certificate),
      handshake: 'ok',
      keepalive_interval: 30,
      noise_public: bytesToHex(this.gateway.serverKey.publicKey),
      pairing_required: false,
      session: connection.session,
      user: { avatar_url: null, display_name: null, handle: null, id: connection.userId, user_id: connection.userId },
      user_id: connection.userId,
    };
    if (this.wantsNoise) ack['transport_encryption'] = 'noise';
    for (const [key, value] of Object.entries(this.gateway.options.ackOverrides?.(connection) ?? {})) {
      if (value === undefined) delete ack[key];
      else ack[key] = value;
    }
    const ackBytes = encodeFrame(controlFrame(FrameType.Ack, 0, connection.nextSequence(), ack));
    connection.transport = (this.noise as NoiseHandshake).split();
    connection.encrypted = ack['transport_encryption'] === 'noise';
    connection.established = true;
    this.stage = 'open';
    const extra = (this.gateway.options.afterAck?.(connection) ?? []).map((frame) => connection.wireBytes(frame));
    connection.sendRaw(Buffer.concat([ackBytes, ...extra]));
  }

  /** The presented certificate when it verifies and fits the device, else a fresh one. */
  private certificateForAck(): DeviceCertificate {
    const connection = this.connection;
    const hello = (connection.hello as Frame & { payload: { kind: 'control'; value: Props } }).payload.value;
    const devicePublic = hexToBytes(hello['device_public'] as string, 32);
    const presented = connection.presentedCertificate;
    if (presented !== undefined && connection.presentedCertificateValid && presented.publicKey.equals(devicePublic)) return presented;
    const now = Math.floor(Date.now() / 1000);
    return signCertificate(
      {
        serial: this.gateway.options.certificateSerial ?? 2n ** 63n + 12_345n,
        userId: connection.userId,
        deviceId: hello['device_id'] as string,
        publicKey: devicePublic,
        issuer: this.gateway.ca.publicKey,
        issuedAt: now,
        expiresAt: now + 2_592_000,
      },
      this.gateway.ca.privateKey,
    );
  }

  /** Reads `varint(len) ‖ ct` units, decrypts them and cuts the plaintext into frames (§3.7). */
  private onUnits(chunk: Buffer): void {
    this.units = Buffer.concat([this.units, chunk]);
    for (;;) {
      let prefix;
      try {
        prefix = decodeVarint(this.units);
      } catch {
        return; // incomplete length
      }
      const end = prefix.length + Number(prefix.value);
      if (this.units.length < end) return;
      const plaintext = (this.connection.transport as NoiseTransport).decrypt(this.units.subarray(prefix.length, end));
      this.units = this.units.subarray(end);
      for (const frame of this.unitPlaintext.push(plaintext)) this.onApplicationFrame(frame);
    }
  }

  /** Records the frame and acknowledges it like the reference: `{"ack": seq}` on its channel. */
  private onApplicationFrame(frame: Frame): void {
    this.connection.received.push(frame);
    if (frame.type === FrameType.Join || frame.type === FrameType.Msg || frame.type === FrameType.Leave) {
      this.connection.send(controlFrame(FrameType.Ack, frame.channel, this.ackSequence++, { ack: frame.sequence }));
    }
  }

  private reject(error: Props): void {
    this.stage = 'dead';
    const stream = this.connection.stream;
    stream.write(encodeFrame(controlFrame(FrameType.Error, 0, this.connection.nextSequence(), error)));
    stream.end();
  }
}
