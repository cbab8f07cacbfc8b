import { type JsonValue } from '@commucat/ccp1';
import {
  bytesToHex,
  certificateFromJson,
  DeviceKeyPair,
  hexToBytes,
  signCertificate,
  verifyZkp,
  x25519PublicKey,
  zkpFromJson,
  zkpHandshakeContext,
} from '@commucat/crypto';
import { buildHello, createDeviceIdentity, type DeviceIdentity } from '@commucat/client';

const MESSAGE_1 = Buffer.alloc(48, 0xab);

function hello(identity: DeviceIdentity, overrides?: Record<string, JsonValue | undefined>): Record<string, JsonValue> {
  return buildHello({
    identity,
    domain: 'example.org',
    pattern: 'XK',
    clientStatic: x25519PublicKey(identity.keys.privateKey),
    handshakeMessage: MESSAGE_1,
    capabilities: ['noise', 'zstd'],
    ...(overrides === undefined ? {} : { overrides }),
  });
}

/** What the server does with a Hello (§4.2 steps 6–9). */
function zkpVerifies(value: Record<string, JsonValue>, domain: string): boolean {
  const devicePublic = hexToBytes(value['device_public'] as string, 32);
  const clientStatic = hexToBytes(value['client_static'] as string, 32);
  const context = zkpHandshakeContext(domain, value['device_id'] as string, devicePublic, clientStatic);
  return verifyZkp(devicePublic, context, zkpFromJson(value['zkp']));
}

describe('createDeviceIdentity', () => {
  it('draws a 64-byte seed and names the device device-<unix ms>-<random>', () => {
    const before = Date.now();
    const identity = createDeviceIdentity();
    const match = /^device-(\d+)-[0-9a-f]{8}$/.exec(identity.deviceId);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeGreaterThanOrEqual(before);
    expect(identity.seed).toHaveLength(64);
    expect(identity.keys.publicKey).toEqual(DeviceKeyPair.fromSeed(identity.seed!).publicKey);
    expect(createDeviceIdentity().deviceId).not.toBe(identity.deviceId);
  });

  it('derives the same keys from the same seed', () => {
    const seed = Buffer.alloc(32, 7);
    const a = createDeviceIdentity({ seed, deviceId: 'd1', handle: 'alice' });
    const b = createDeviceIdentity({ seed });
    expect(a.keys.privateKey).toEqual(b.keys.privateKey);
    expect(a.deviceId).toBe('d1');
    expect(a.handle).toBe('alice');
    expect(b.handle).toBeUndefined();
  });
});

describe('buildHello', () => {
  it('carries the real client properties, and its ZKP verifies over the server context', () => {
    const identity = createDeviceIdentity({ deviceId: 'device-1', seed: Buffer.alloc(64, 1) });
    const value = hello(identity);
    expect(Object.keys(value).sort()).toEqual([
      'capabilities',
      'client_static',
      'device_id',
      'device_public',
      'handshake',
      'pattern',
      'protocol_version',
      'zkp',
    ]);
    expect(value['client_static']).toBe(bytesToHex(x25519PublicKey(identity.keys.privateKey)));
    expect(value['device_public']).toBe(bytesToHex(identity.keys.publicKey));
    expect(value['handshake']).toBe(MESSAGE_1.toString('hex'));
    expect(value['protocol_version']).toBe(1);
    expect(value['pattern']).toBe('XK');
    expect(value['capabilities']).toEqual(['noise', 'zstd']);
    expect(zkpVerifies(value, 'example.org')).toBe(true);
    // The ZKP is bound to the domain (trap T22).
    expect(zkpVerifies(value, 'example.net')).toBe(false);
  });

  it('adds user, certificate (exact serial) and CA key only when the identity has them', () => {
    const identity = createDeviceIdentity({ handle: 'alice' });
    expect(hello(identity)['user']).toEqual({ handle: 'alice' });

    const ca = DeviceKeyPair.generate();
    identity.userId = 'u-1';
    identity.displayName = 'Alice';
    identity.avatarUrl = 'https://a/b.png';
    identity.deviceCaPublic = ca.publicKey;
    identity.certificate = signCertificate(
      {
        serial: 18_446_744_073_709_551_615n,
        userId: 'u-1',
        deviceId: identity.deviceId,
        publicKey: identity.keys.publicKey,
        issuer: ca.publicKey,
        issuedAt: 100,
        expiresAt: 200,
      },
      ca.privateKey,
    );
    const value = hello(identity);
    expect(value['user']).toEqual({ handle: 'alice', id: 'u-1', display_name: 'Alice', avatar_url: 'https://a/b.png' });
    expect(value['device_ca_public']).toBe(bytesToHex(ca.publicKey));
    expect(certificateFromJson(value['certificate'])).toEqual(identity.certificate);
  });

  it('applies overrides: replace or delete a property', () => {
    const value = hello(createDeviceIdentity(), { pattern: 'xk', zkp: undefined, supported_versions: [2] });
    expect(value['pattern']).toBe('xk');
    expect('zkp' in value).toBe(false);
    expect(value['supported_versions']).toEqual([2]);
  });
});
