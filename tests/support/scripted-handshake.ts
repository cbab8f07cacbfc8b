import { FrameStreamDecoder, FrameType, controlFrame, encodeFrame, type Frame } from '@commucat/ccp1';
import { buildHello, createDeviceIdentity } from '@commucat/client';
import { NoiseHandshake, NoiseStaticKey, x25519PublicKey } from '@commucat/crypto';

/**
 * The client side of an XK handshake over any connect mode: `hello()` gives the Hello bytes to
 * send; feed every frame the server sends to `onFrame`, which returns the msg3 Auth bytes to send
 * back when the server's Auth arrives. Lets tests drive SSE, NDJSON and WebSocket streams.
 */
export class ScriptedHandshake {
  readonly identity = createDeviceIdentity({ handle: `modes-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}` });
  private readonly noise: NoiseHandshake;
  readonly frames: Frame[] = [];

  constructor(serverStatic: Buffer, private readonly domain: string) {
    this.noise = new NoiseHandshake({
      pattern: 'XK', initiator: true, prologue: Buffer.from('commucat'),
      staticKey: NoiseStaticKey.fromPrivate(this.identity.keys.privateKey), remoteStatic: serverStatic,
    });
  }

  hello(): Buffer {
    return encodeFrame(controlFrame(FrameType.Hello, 0, 1, buildHello({
      identity: this.identity, domain: this.domain, pattern: 'XK', clientStatic: x25519PublicKey(this.identity.keys.privateKey),
      handshakeMessage: this.noise.writeMessage(), capabilities: ['noise', 'zstd'],
    })));
  }

  onFrame(frame: Frame): Buffer | undefined {
    this.frames.push(frame);
    if (frame.type !== FrameType.Auth || frame.payload.kind !== 'control') return undefined;
    this.noise.readMessage(Buffer.from((frame.payload.value as Record<string, string>).handshake!, 'hex'));
    return encodeFrame(controlFrame(FrameType.Auth, frame.channel, 2, { handshake: this.noise.writeMessage().toString('hex') }));
  }

  get ack(): Frame | undefined {
    return this.frames.find((f) => f.type === FrameType.Ack);
  }
}

/** Decodes one unit (one whole encoded frame) as the streaming modes carry it. */
export function frameOfUnit(unit: Buffer): Frame {
  const frames = new FrameStreamDecoder().push(unit);
  if (frames.length !== 1) throw new Error(`a unit held ${frames.length} frames`);
  return frames[0]!;
}
