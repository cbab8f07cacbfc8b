import { FrameType, controlFrame, opaqueFrame, type JsonValue } from '@commucat/ccp1';
import {
  DeviceKeyPair, NoiseHandshake, NoiseStaticKey, bytesToHex, proveZkp, x25519PublicKey, zkpHandshakeContext, zkpToJson,
} from '@commucat/crypto';
import { HandshakeError } from '../src/handshake-error';
import { parseHello } from '../src/hello';

const DOMAIN = 'example.org';
const server = NoiseStaticKey.generate();
const device = DeviceKeyPair.generate();
const clientStatic = x25519PublicKey(device.privateKey);

function validHello(deviceId = 'device-1'): Record<string, JsonValue> {
  const noise = new NoiseHandshake({
    pattern: 'XK', initiator: true, prologue: Buffer.from('commucat'),
    staticKey: NoiseStaticKey.fromPrivate(device.privateKey), remoteStatic: server.publicKey,
  });
  const proof = proveZkp(device, zkpHandshakeContext(DOMAIN, deviceId, device.publicKey, clientStatic));
  return {
    capabilities: ['noise', 'zstd'], client_static: bytesToHex(clientStatic), device_id: deviceId,
    device_public: bytesToHex(device.publicKey), handshake: bytesToHex(noise.writeMessage()), pattern: 'XK',
    protocol_version: 1, user: { handle: 'alice', display_name: 'Alice', avatar_url: 7 }, zkp: zkpToJson(proof),
  };
}

function refusal(props: Record<string, JsonValue | undefined>): HandshakeError {
  const clean: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(props)) if (v !== undefined) clean[k] = v;
  try {
    parseHello(controlFrame(FrameType.Hello, 0, 1, clean), DOMAIN);
  } catch (err) {
    if (err instanceof HandshakeError) return err;
    throw err;
  }
  throw new Error('Hello was accepted');
}

describe('parseHello', () => {
  test('a Hello like the real client sends parses, with its hints', () => {
    const parsed = parseHello(controlFrame(FrameType.Hello, 4, 1, validHello()), DOMAIN);
    expect(parsed).toMatchObject({ channel: 4, protocolVersion: 1, pattern: 'XK', deviceId: 'device-1', handleHint: 'alice', displayNameHint: 'Alice' });
    expect(parsed.avatarUrlHint).toBeUndefined(); // non-strings are ignored
    expect(parsed.clientStatic.equals(clientStatic)).toBe(true);
    expect(parsed.msg1).toHaveLength(48);
  });

  test('the frame must be a Hello', () => {
    expect(() => parseHello(opaqueFrame(FrameType.Msg, 0, 1, Buffer.from('x')), DOMAIN)).toThrow(HandshakeError);
  });

  test.each([
    [{ supported_versions: 1 }, 'protocol negotiation failed: supported_versions must be an array'],
    [{ supported_versions: ['1'] }, 'protocol negotiation failed: supported_versions entries must be unsigned integers'],
    [{ supported_versions: [70000] }, 'protocol negotiation failed: protocol version 70000 out of range'],
    [{ supported_versions: [] }, 'protocol negotiation failed: supported_versions cannot be empty'],
    [{ supported_versions: [2, 3] }, 'protocol negotiation failed: no common protocol version; peer=[2,3]; supported=[1]'],
    [{ protocol_version: 2 }, 'protocol negotiation failed: unsupported protocol version 2; supported=[1]'],
    [{ protocol_version: -1 }, 'protocol negotiation failed: protocol_version must be an unsigned integer'],
  ])('version check %p → %s', (override, display) => {
    expect(refusal({ ...validHello(), ...override }).display).toBe(display);
  });

  test('supported_versions takes priority over protocol_version', () => {
    const parsed = parseHello(controlFrame(FrameType.Hello, 0, 1, { ...validHello(), protocol_version: 9, supported_versions: [1, 7] }), DOMAIN);
    expect(parsed.protocolVersion).toBe(1);
  });

  test.each([
    ['pattern', 'xk'],
    ['pattern', undefined],
    ['device_id', 5],
    ['handshake', 'abc'],
    ['handshake', 'zz'],
    ['client_static', 'ab'],
    ['device_public', undefined],
    ['zkp', undefined],
    ['zkp', { commitment: 'ab', response: 'cd' }],
  ])('%s = %p is an invalid request', (key, value) => {
    const err = refusal({ ...validHello(), [key]: value });
    expect(err.display).toBe('invalid request');
    expect(err.toErrorPayload()).toEqual({ detail: 'invalid request', error: 'handshake' });
  });

  test('a ZKP made for another domain or device does not verify', () => {
    const hello = validHello('device-2');
    expect(refusal({ ...hello, device_id: 'device-3' }).reason).toBe('zkp does not verify');
    expect(() => parseHello(controlFrame(FrameType.Hello, 0, 1, hello), 'example.com')).toThrow('zkp does not verify');
  });

  test('checks run in the reference order: version before pattern before device id', () => {
    expect(refusal({ ...validHello(), protocol_version: 5, pattern: 'nope', device_id: 1 }).kind).toBe('negotiation');
    expect(refusal({ ...validHello(), pattern: 'nope', device_id: 1 }).reason).toMatch(/pattern/);
  });

  test('uppercase hex is accepted', () => {
    const hello = validHello();
    const parsed = parseHello(controlFrame(FrameType.Hello, 0, 1, { ...hello, device_public: (hello.device_public as string).toUpperCase() }), DOMAIN);
    expect(parsed.devicePublic.equals(device.publicKey)).toBe(true);
  });

  test('a certificate must be an object and is forwarded losslessly', () => {
    expect(refusal({ ...validHello(), certificate: 'x' }).display).toBe('invalid request');
    const parsed = parseHello(controlFrame(FrameType.Hello, 0, 1, { ...validHello(), certificate: { serial: 18446744073709551615n } }), DOMAIN);
    expect(parsed.certificateJson).toBe('{"serial":18446744073709551615}');
  });
});
