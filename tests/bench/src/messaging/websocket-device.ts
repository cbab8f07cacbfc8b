// One device connected over WebSocket (HTTP/1.1 upgrade, its own TLS connection) that completes
// the XK handshake and then stays idle: the gateway's other connect mode, for the idle-RSS figure.
import { controlFrame, encodeFrame, FrameStreamDecoder, FrameType, type Frame } from '@commucat/ccp1';
import { buildHello, type DeviceIdentity } from '@commucat/client';
import { NoiseHandshake, NoiseStaticKey, x25519PublicKey } from '@commucat/crypto';
import WebSocket from 'ws';

export interface WebSocketTarget {
  /** wss://host:port/connect */
  url: string;
  ca: Buffer;
  domain: string;
  serverStatic: Buffer;
}

/** Resolves with the open socket once the server's handshake Ack arrived. */
export function connectWebSocketDevice(target: WebSocketTarget, identity: DeviceIdentity, timeoutMs = 15_000): Promise<WebSocket> {
  const noise = new NoiseHandshake({
    pattern: 'XK', initiator: true, prologue: Buffer.from('commucat'),
    staticKey: NoiseStaticKey.fromPrivate(identity.keys.privateKey), remoteStatic: target.serverStatic,
  });
  const hello = controlFrame(FrameType.Hello, 0, 1, buildHello({
    identity, domain: target.domain, pattern: 'XK', clientStatic: x25519PublicKey(identity.keys.privateKey),
    handshakeMessage: noise.writeMessage(), capabilities: ['noise', 'zstd'],
  }));
  const ws = new WebSocket(target.url, { ca: target.ca, ALPNProtocols: ['http/1.1'] } as WebSocket.ClientOptions);
  return new Promise<WebSocket>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`websocket handshake not done within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      ws.terminate();
      reject(error);
    };
    const decoder = new FrameStreamDecoder();
    ws.once('error', fail);
    ws.once('open', () => ws.send(encodeFrame(hello), { binary: true }));
    ws.on('message', (data: Buffer) => {
      let frames: Frame[];
      try {
        frames = decoder.push(data);
      } catch (error) {
        fail(error as Error);
        return;
      }
      for (const frame of frames) {
        if (frame.type === FrameType.Auth && frame.payload.kind === 'control') {
          noise.readMessage(Buffer.from((frame.payload.value as Record<string, string>)['handshake']!, 'hex'));
          ws.send(encodeFrame(controlFrame(FrameType.Auth, frame.channel, 2, { handshake: noise.writeMessage().toString('hex') })), { binary: true });
        } else if (frame.type === FrameType.Ack) {
          clearTimeout(timer);
          ws.removeAllListeners('message');
          ws.on('error', () => {});
          resolve(ws);
        } else if (frame.type === FrameType.Error) {
          fail(new Error(`handshake refused: ${JSON.stringify(frame.payload.kind === 'control' ? frame.payload.value : null)}`));
        }
      }
    });
  });
}
