import { CodecError, controlFrame, encodeFrame, encodeVarint, type Frame, FrameType, opaqueFrame } from '@commucat/ccp1';
import { NoiseHandshake, NoiseStaticKey, type NoiseTransport } from '@commucat/crypto';
import { ClientError } from '@commucat/client';
import { FrameReader } from '../src/frame-reader';

/** A real XK handshake in memory: [client transport, server transport]. */
function transportPair(): [NoiseTransport, NoiseTransport] {
  const server = NoiseStaticKey.generate();
  const prologue = Buffer.from('commucat');
  const initiator = new NoiseHandshake({ pattern: 'XK', initiator: true, prologue, staticKey: NoiseStaticKey.generate(), remoteStatic: server.publicKey });
  const responder = new NoiseHandshake({ pattern: 'XK', initiator: false, prologue, staticKey: server });
  responder.readMessage(initiator.writeMessage());
  initiator.readMessage(responder.writeMessage());
  responder.readMessage(initiator.writeMessage());
  return [initiator.split(), responder.split()];
}

function unit(transport: NoiseTransport, plaintext: Uint8Array): Buffer {
  const ciphertext = transport.encrypt(plaintext);
  return Buffer.concat([encodeVarint(ciphertext.length), ciphertext]);
}

function drain(reader: FrameReader): Frame[] {
  const frames: Frame[] = [];
  for (let frame = reader.next(); frame !== undefined; frame = reader.next()) frames.push(frame);
  return frames;
}

const join = controlFrame(FrameType.Join, 5, 3, { members: ['a', 'b'], relay: false });
const msg = opaqueFrame(FrameType.Msg, 5, 4, Buffer.from('hi there'));
const ack = controlFrame(FrameType.Ack, 0, 2, { handshake: 'ok', session: 's' });

describe('FrameReader, plaintext', () => {
  it('cuts frames out of arbitrary chunk boundaries', () => {
    const bytes = Buffer.concat([encodeFrame(join), encodeFrame(msg), encodeFrame(ack)]);
    const reader = new FrameReader('1.0.103');
    const frames: Frame[] = [];
    for (const byte of bytes) {
      reader.push(Buffer.from([byte]));
      frames.push(...drain(reader));
    }
    expect(frames).toEqual([join, msg, ack]);
  });

  it('waits for an incomplete frame but reports a complete malformed one (trap T6) and an oversized LEN at once', () => {
    const reader = new FrameReader('1.0.103');
    reader.push(encodeFrame(join).subarray(0, 5));
    expect(reader.next()).toBeUndefined();

    const zeroLength = new FrameReader('1.0.103');
    zeroLength.push(Buffer.from([0x00]));
    expect(() => zeroLength.next()).toThrow(expect.objectContaining({ code: 'UnexpectedEof' }));

    const tooLarge = new FrameReader('1.0.103');
    tooLarge.push(encodeVarint(16_777_217));
    expect(() => tooLarge.next()).toThrow(CodecError);
    expect(() => tooLarge.next()).toThrow(expect.objectContaining({ code: 'FrameTooLarge' }));
  });

  it('decodes by dialect: KeyUpdate is opaque for 1.0.41', () => {
    const keyUpdate = encodeFrame(controlFrame(FrameType.KeyUpdate, 1, 1, { k: 1 }));
    const real = new FrameReader('1.0.41');
    real.push(keyUpdate);
    expect(real.next()?.payload.kind).toBe('opaque');
    const head = new FrameReader('1.0.103');
    head.push(keyUpdate);
    expect(head.next()?.payload).toEqual({ kind: 'control', value: { k: 1 } });
  });
});

describe('FrameReader, Noise transport', () => {
  it('switches between two frames of one chunk: plaintext Ack, then units', () => {
    const [client, server] = transportPair();
    const reader = new FrameReader('1.0.103');
    reader.push(Buffer.concat([encodeFrame(ack), unit(server, encodeFrame(join)), unit(server, encodeFrame(msg))]));
    expect(reader.next()).toEqual(ack);
    reader.useNoiseTransport(client);
    expect(reader.encrypted).toBe(true);
    expect(drain(reader)).toEqual([join, msg]);
  });

  it('joins a frame split over units and splits a unit holding two frames', () => {
    const [client, server] = transportPair();
    const reader = new FrameReader('1.0.103');
    reader.useNoiseTransport(client);
    const joinBytes = encodeFrame(join);
    const wire = Buffer.concat([
      unit(server, joinBytes.subarray(0, 4)),
      unit(server, joinBytes.subarray(4)),
      unit(server, Buffer.concat([encodeFrame(msg), encodeFrame(ack)])),
    ]);
    const frames: Frame[] = [];
    for (let i = 0; i < wire.length; i += 7) {
      reader.push(wire.subarray(i, i + 7));
      frames.push(...drain(reader));
    }
    expect(frames).toEqual([join, msg, ack]);
  });

  it('fails with Protocol on a unit that does not decrypt or is longer than a Noise message', () => {
    const [client, server] = transportPair();
    const tampered = unit(server, encodeFrame(join));
    tampered[tampered.length - 1]! ^= 0x01;
    const reader = new FrameReader('1.0.103');
    reader.useNoiseTransport(client);
    reader.push(tampered);
    expect(() => reader.next()).toThrow(ClientError);

    const [client2] = transportPair();
    const oversized = new FrameReader('1.0.103');
    oversized.useNoiseTransport(client2);
    oversized.push(encodeVarint(65_536));
    expect(() => oversized.next()).toThrow(expect.objectContaining({ code: 'Protocol' }));
  });

  it('drops only decrypted bytes after a decode error, keeping unit boundaries', () => {
    const [client, server] = transportPair();
    const reader = new FrameReader('1.0.103');
    reader.useNoiseTransport(client);
    reader.push(Buffer.concat([unit(server, Buffer.from([0x02, 0x7f, 0x00])), unit(server, encodeFrame(msg))]));
    expect(() => reader.next()).toThrow(expect.objectContaining({ code: 'InvalidFrameType' }));
    reader.discardBufferedFrames();
    expect(reader.next()).toEqual(msg);
  });
});
