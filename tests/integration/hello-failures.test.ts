import { FrameType, controlFrame, encodeFrame, type JsonValue } from '@commucat/ccp1';
import { HandshakeRejectedError, buildHello, createDeviceIdentity, fetchServerInfo, type ClientConnection } from '@commucat/client';
import { NoiseHandshake, NoiseStaticKey, bytesToHex, x25519PublicKey } from '@commucat/crypto';
import { TestFleet } from '../support/fleet';
import { connectTo, newIdentity } from '../support/fleet-client';
import { rawExchange } from '../support/raw-connect';

jest.setTimeout(60_000);
let fleet: TestFleet;
let serverStatic: Buffer;
let bystander: ClientConnection;

beforeAll(async () => {
  fleet = await TestFleet.start();
  serverStatic = Buffer.from((await fetchServerInfo(fleet.gatewayUrl(), { ca: fleet.tlsCert })).noise_public as string, 'hex');
  // An established connection that must carry on through every failure below.
  bystander = await connectTo(fleet, newIdentity('bystander'));
});
afterAll(async () => {
  await bystander?.close();
  await fleet?.stop();
});

async function rejection(overrides: Record<string, JsonValue | undefined>, extra: Parameters<typeof connectTo>[2] = {}): Promise<HandshakeRejectedError> {
  try {
    const conn = await connectTo(fleet, newIdentity('fail'), { helloOverrides: overrides, ...extra });
    await conn.close();
  } catch (err) {
    if (err instanceof HandshakeRejectedError) return err;
    throw err;
  }
  throw new Error('the handshake was accepted');
}

const invalid = { detail: 'invalid request', error: 'handshake' };

describe('every Hello check of spec §4.2 answers with its Error frame', () => {
  test.each<[string, Record<string, JsonValue | undefined>, Record<string, JsonValue>]>([
    ['supported_versions not an array', { supported_versions: 'x' }, { detail: 'protocol negotiation failed: supported_versions must be an array', error: 'handshake' }],
    ['no common version', { supported_versions: [2] }, { detail: 'protocol negotiation failed: no common protocol version; peer=[2]; supported=[1]', error: 'handshake' }],
    ['unsupported protocol_version', { protocol_version: 3 }, { detail: 'protocol negotiation failed: unsupported protocol version 3; supported=[1]', error: 'handshake' }],
    ['bad pattern', { pattern: 'NN' }, invalid],
    ['device_id not a string', { device_id: 42 }, invalid],
    ['handshake not hex', { handshake: 'xyz' }, invalid],
    ['client_static too short', { client_static: 'abcd' }, invalid],
    ['device_public missing', { device_public: undefined }, invalid],
    ['zkp missing', { zkp: undefined }, invalid],
    ['zkp for another key', { zkp: { commitment: '00'.repeat(32), response: '00'.repeat(32) } }, invalid],
    ['certificate not an object', { certificate: [1] }, invalid],
    ['certificate that does not parse', { certificate: { serial: 1 } }, invalid],
  ])('%s', async (_name, overrides, expected) => {
    expect((await rejection(overrides)).properties).toEqual(expected);
  });

  test('a ZKP bound to another domain fails (trap T22)', async () => {
    expect((await rejection({}, { domain: 'example.com' })).properties).toEqual(invalid);
  });

  test('msg1 under a key the server does not hold fails', async () => {
    expect((await rejection({}, { serverStatic: NoiseStaticKey.generate().publicKey })).properties).toEqual(invalid);
  });

  test('an unknown device naming an existing handle needs pairing (no takeover)', async () => {
    const owner = newIdentity('owner');
    (await connectTo(fleet, owner)).close();
    const intruder = createDeviceIdentity({ handle: owner.handle });
    const err = await connectTo(fleet, intruder).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HandshakeRejectedError);
    expect((err as HandshakeRejectedError).properties).toEqual({ detail: 'pairing required', error: 'handshake', pairing_required: true, title: 'PairingRequired' });
  });

  test('a first frame that is not Hello: Error on channel 0 seq 1, then the stream ends', async () => {
    const res = await rawExchange(fleet.gatewayUrl(), fleet.tlsCert, [encodeFrame(controlFrame(FrameType.Auth, 0, 1, { handshake: '00' }))]);
    expect(res.status).toBe(200);
    expect(res.ending).toBe('end');
    expect(res.frames).toHaveLength(1);
    expect(res.frames[0]).toMatchObject({ type: FrameType.Error, channel: 0, sequence: 1, payload: { kind: 'control', value: invalid } });
  });

  test('msg3 carrying another static key than client_static: crypto failure at seq 2 (trap T19)', async () => {
    const identity = createDeviceIdentity({ handle: `t19-${Date.now()}` });
    // The ZKP binds client_static (the device's key), but the Noise initiator uses another static.
    const impostor = new NoiseHandshake({ pattern: 'XK', initiator: true, prologue: Buffer.from('commucat'), staticKey: NoiseStaticKey.generate(), remoteStatic: serverStatic });
    const hello = buildHello({
      identity, domain: fleet.domain, pattern: 'XK', clientStatic: x25519PublicKey(identity.keys.privateKey),
      handshakeMessage: impostor.writeMessage(), capabilities: ['noise', 'zstd'],
    });
    const res = await rawExchange(fleet.gatewayUrl(), fleet.tlsCert, [encodeFrame(controlFrame(FrameType.Hello, 0, 1, hello))], {
      onFrame(frame, write) {
        if (frame.type !== FrameType.Auth || frame.payload.kind !== 'control') return;
        impostor.readMessage(Buffer.from((frame.payload.value as Record<string, string>).handshake!, 'hex'));
        write(encodeFrame(controlFrame(FrameType.Auth, frame.channel, 2, { handshake: bytesToHex(impostor.writeMessage()) })));
      },
    });
    expect(res.frames.map((f) => f.type)).toEqual([FrameType.Auth, FrameType.Error]);
    expect(res.frames[1]).toMatchObject({ channel: 0, sequence: 2, payload: { value: { detail: 'crypto failure', error: 'handshake' } } });
    expect(res.ending).toBe('end');
  });

  test('the bystander connection is still up', async () => {
    expect(bystander.isClosed).toBe(false);
    bystander.sendControl(FrameType.Presence, 0, { state: 'away' });
    await new Promise((r) => setTimeout(r, 100));
    expect(bystander.isClosed).toBe(false);
  });
});
