import { controlFrame, type Frame, FrameType, type JsonValue, parseJson } from '@commucat/ccp1';
import { bytesToHex, hexToBytes, NoiseHandshake, type NoisePattern, NoiseStaticKey, type NoiseTransport } from '@commucat/crypto';
import { ClientError, HandshakeRejectedError } from './errors';
import { buildHello } from './hello';
import type { DeviceIdentity } from './identity';
import { isJsonObject } from './json-object';

export interface ClientHandshakeOptions {
  identity: DeviceIdentity;
  domain: string;
  serverStatic: Uint8Array;
  pattern: NoisePattern;
  prologue: string;
  capabilities: readonly string[];
  helloOverrides?: Record<string, JsonValue | undefined>;
}

/** What the handshake learned, once the server's Ack with `"handshake":"ok"` arrived. */
export interface HandshakeResult {
  /** Properties of the server Auth frame. */
  auth: Record<string, JsonValue>;
  /** The decrypted Noise msg2 payload ({} when the server sent none). */
  handshakePayload: Record<string, JsonValue>;
  /** The session id from the msg2 payload, "unknown" if the payload was empty (as the real client). */
  session: string;
  ack: Record<string, JsonValue>;
}

/** The reaction to one server frame during the handshake. */
export type HandshakeStep =
  /** Send this frame (the XK msg3 Auth). */
  | { kind: 'reply'; frame: Frame }
  /** The frame advanced the handshake; nothing to send (the IK Auth). */
  | { kind: 'progress' }
  /** Not a handshake frame: the real client hands such frames to its UI, so keep it for the app. */
  | { kind: 'unrelated' }
  | { kind: 'established'; result: HandshakeResult };

const HELLO_SEQUENCE = 1;
const CLIENT_AUTH_SEQUENCE = 2;

/**
 * The client side of the CCP-1 handshake as the real client runs it (§3.3, §4): Hello with msg1
 * on channel 0 seq 1; server Auth carries msg2 whose payload names the session; for XK the client
 * answers with an Auth holding msg3 on the server Auth's channel, seq 2; then the server's Ack
 * with `"handshake":"ok"` ends it. For IK the handshake is complete after msg2 and the TS gateway
 * sends the Ack right away (deliberate deviation from the reference, §3.4), so no msg3 is sent.
 * Synchronous, so the caller can switch the wire format between two frames of one chunk.
 */
export class ClientHandshake {
  readonly hello: Frame;
  readonly pattern: NoisePattern;
  private readonly noise: NoiseHandshake;
  private stage: 'await-auth' | 'await-ack' | 'done' = 'await-auth';
  private auth: Record<string, JsonValue> = {};
  private handshakePayload: Record<string, JsonValue> = {};
  private session = '';

  constructor(options: ClientHandshakeOptions) {
    this.pattern = options.pattern;
    // The device private key doubles as the Noise static private key (§3.2).
    const staticKey = NoiseStaticKey.fromPrivate(options.identity.keys.privateKey);
    this.noise = new NoiseHandshake({
      pattern: options.pattern,
      initiator: true,
      prologue: Buffer.from(options.prologue, 'utf8'),
      staticKey,
      remoteStatic: options.serverStatic,
    });
    const message1 = this.noise.writeMessage();
    const hello = buildHello({
      identity: options.identity,
      domain: options.domain,
      pattern: options.pattern,
      clientStatic: staticKey.publicKey,
      handshakeMessage: message1,
      capabilities: options.capabilities,
      ...(options.helloOverrides === undefined ? {} : { overrides: options.helloOverrides }),
    });
    this.hello = controlFrame(FrameType.Hello, 0, HELLO_SEQUENCE, hello);
  }

  /** Throws HandshakeRejectedError for an Error frame, ClientError('Protocol') for a bad peer. */
  handle(frame: Frame): HandshakeStep {
    if (this.stage === 'done') throw new ClientError('Protocol', 'handshake already finished');
    if (frame.type === FrameType.Error) {
      throw new HandshakeRejectedError(frame.payload.kind === 'control' && isJsonObject(frame.payload.value) ? frame.payload.value : {});
    }
    if (this.stage === 'await-auth' && frame.type === FrameType.Auth) return this.onServerAuth(frame);
    if (frame.type === FrameType.Ack && isHandshakeOk(frame)) {
      if (this.stage === 'await-auth') throw new ClientError('Protocol', 'handshake Ack arrived before the server Auth');
      this.stage = 'done';
      return {
        kind: 'established',
        result: {
          auth: this.auth,
          handshakePayload: this.handshakePayload,
          session: this.session,
          ack: (frame.payload as { value: Record<string, JsonValue> }).value,
        },
      };
    }
    return { kind: 'unrelated' };
  }

  /** The Noise transport ciphers; only once the handshake is established. */
  split(): NoiseTransport {
    return this.noise.split();
  }

  private onServerAuth(frame: Frame): HandshakeStep {
    const properties = frame.payload.kind === 'control' ? frame.payload.value : undefined;
    const handshakeHex = isJsonObject(properties) ? properties['handshake'] : undefined;
    if (!isJsonObject(properties) || typeof handshakeHex !== 'string') {
      throw new ClientError('Protocol', 'server Auth carries no handshake message');
    }
    let payloadBytes: Buffer;
    try {
      payloadBytes = this.noise.readMessage(hexToBytes(handshakeHex));
    } catch (error) {
      throw new ClientError('Protocol', `noise message two: ${(error as Error).message}`, { cause: error });
    }
    this.auth = properties;
    this.readPayload(payloadBytes);

    this.stage = 'await-ack';
    if (this.noise.isFinished) return { kind: 'progress' }; // IK: two messages only
    let message3: Buffer;
    try {
      message3 = this.noise.writeMessage();
    } catch (error) {
      throw new ClientError('Protocol', `noise message three: ${(error as Error).message}`, { cause: error });
    }
    return {
      kind: 'reply',
      frame: controlFrame(FrameType.Auth, frame.channel, CLIENT_AUTH_SEQUENCE, { handshake: bytesToHex(message3) }),
    };
  }

  /** An empty payload leaves the session "unknown"; otherwise it must be JSON with a string session. */
  private readPayload(bytes: Buffer): void {
    if (bytes.length === 0) {
      this.session = 'unknown';
      return;
    }
    let payload: JsonValue;
    try {
      payload = parseJson(bytes);
    } catch (error) {
      throw new ClientError('Protocol', 'handshake payload is not valid JSON', { cause: error });
    }
    const session = isJsonObject(payload) ? payload['session'] : undefined;
    if (!isJsonObject(payload) || typeof session !== 'string') throw new ClientError('Protocol', 'session missing');
    this.handshakePayload = payload;
    this.session = session;
  }
}

function isHandshakeOk(frame: Frame): boolean {
  return frame.payload.kind === 'control' && isJsonObject(frame.payload.value) && frame.payload.value['handshake'] === 'ok';
}
