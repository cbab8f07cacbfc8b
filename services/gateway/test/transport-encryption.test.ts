import { FrameType, FrameStreamDecoder, controlFrame, encodeFrame } from '@commucat/ccp1';
import { DeviceKeyPair, NoiseHandshake, NoiseStaticKey } from '@commucat/crypto';
import { NoiseUnitCodec } from '../src/transport-encryption';

function transports() {
  const server = NoiseStaticKey.generate();
  const client = NoiseStaticKey.fromPrivate(DeviceKeyPair.generate().privateKey);
  const prologue = Buffer.from('commucat');
  const i = new NoiseHandshake({ pattern: 'XK', initiator: true, prologue, staticKey: client, remoteStatic: server.publicKey });
  const r = new NoiseHandshake({ pattern: 'XK', initiator: false, prologue, staticKey: server });
  r.readMessage(i.writeMessage());
  i.readMessage(r.writeMessage());
  r.readMessage(i.writeMessage());
  return { client: new NoiseUnitCodec(i.split()), server: new NoiseUnitCodec(r.split()) };
}

describe('NoiseUnitCodec (HEAD wire format, spec §3.7)', () => {
  test('each sealed unit is varint(len) ‖ ciphertext of one encoded frame', () => {
    const { client, server } = transports();
    const frame = encodeFrame(controlFrame(FrameType.Ack, 0, 3, { ack: 3 }));
    const unit = server.seal(frame);
    expect(unit[0]).toBe(frame.length + 16);
    const [plain] = client.open(unit);
    expect(plain!.equals(frame)).toBe(true);
  });

  test('units split at every byte and packed together come out whole and in order', () => {
    const { client, server } = transports();
    const frames = [1, 2, 3].map((n) => encodeFrame(controlFrame(FrameType.Presence, 0, n, { state: 'online', n })));
    const wire = Buffer.concat(frames.map((f) => client.seal(f)));
    const decoder = new FrameStreamDecoder();
    for (let i = 0; i < wire.length; i++) {
      for (const p of server.open(wire.subarray(i, i + 1))) decoder.append(p);
    }
    const seqs = [];
    for (let f = decoder.next(); f; f = decoder.next()) seqs.push(f.sequence);
    expect(seqs).toEqual([1, 2, 3]);
  });

  test('a tampered unit fails to decrypt; an absurd length is refused before buffering', () => {
    const { client, server } = transports();
    const unit = client.seal(encodeFrame(controlFrame(FrameType.Leave, 7, 4, {})));
    unit[unit.length - 1] ^= 1;
    expect(() => server.open(unit)).toThrow();
    const other = transports();
    expect(() => other.server.open(Buffer.from([0xff, 0xff, 0x7f]))).toThrow(/frame exceeds limits/);
  });
});
