import {
  certificateFromJson,
  certificateSigningMessage,
  certificateToJson,
  certificateToJsonString,
  DeviceKeyPair,
  randomCertificateSerial,
  signCertificate,
  verifyCertificate,
  type DeviceCertificate,
  type DeviceCertificateData,
} from '@commucat/crypto';
import { expectCryptoError } from './support/expect-crypto-error';

const A = DeviceKeyPair.fromSeed(Buffer.from('seed-seed-seed-seed-seed-seed-seed-seed'));
const B = DeviceKeyPair.fromSeed(Buffer.from(Array.from({ length: 32 }, (_, i) => i)));
const A_PUB = A.publicKey.toString('hex');
const B_PUB = B.publicKey.toString('hex');
const U64_MAX = 18446744073709551615n;

const SIGNATURE_02 =
  '5fec64deb1feb23eaf8a0a2ed164a5c1c2209c58748912e3a2f4673eb16dee2b9a8af8cc1ca8a686407451417c97baf67d4a9afae946763c8b319c6a086f5302';
const SIGNATURE_04 =
  '2e17c26b522cfb404729519badd6bfd92b9c9607804b0db2bb9f4d4654106c668dde0c5ef49288a2e9503b44446f8323c1bde5c72650db67e57c63363bc08e09';

const data01: DeviceCertificateData = {
  serial: 42n,
  userId: 'user-1',
  deviceId: 'device-1',
  publicKey: A.publicKey,
  issuer: A.publicKey,
  issuedAt: 1,
  expiresAt: 2,
};

const data04: DeviceCertificateData = {
  serial: U64_MAX,
  userId: 'u"ser\né',
  deviceId: 'dev/1',
  publicKey: B.publicKey,
  issuer: A.publicKey,
  issuedAt: 1_700_000_000,
  expiresAt: 1_702_592_000,
};


/** Stand-in for a lossless JSON parser: big integers arrive as digit strings. */
function parseLossless(text: string): unknown {
  return JSON.parse(text.replace(/"serial":(\d+)/, '"serial":"$1"'));
}

describe('certificates (§6, §9.3)', () => {
  const cert02 = signCertificate(data01, A.privateKey);
  const cert04 = signCertificate(data04, A.privateKey);

  it('TV-CERT-01: canonical message in declaration order', () => {
    expect(certificateSigningMessage(data01).toString()).toBe(
      `{"serial":42,"user_id":"user-1","device_id":"device-1","public_key":"${A_PUB}","issuer":"${A_PUB}","issued_at":1,"expires_at":2}`,
    );
  });

  it('TV-CERT-02: signature', () => {
    expect(cert02.signature.toString('hex')).toBe(SIGNATURE_02);
  });

  it('TV-CERT-03: to_string (declaration order) and to_value (sorted) forms', () => {
    expect(certificateToJsonString(cert02, 'declaration')).toBe(
      `{"serial":42,"user_id":"user-1","device_id":"device-1","public_key":"${A_PUB}","issuer":"${A_PUB}","issued_at":1,"expires_at":2,"signature":"${SIGNATURE_02}"}`,
    );
    expect(certificateToJsonString(cert02, 'sorted')).toBe(
      `{"device_id":"device-1","expires_at":2,"issued_at":1,"issuer":"${A_PUB}","public_key":"${A_PUB}","serial":42,"signature":"${SIGNATURE_02}","user_id":"user-1"}`,
    );
  });

  it('TV-CERT-04: u64::MAX serial, escapes, raw UTF-8 and unescaped slash', () => {
    const message = certificateSigningMessage(data04);
    expect(message.toString('utf8')).toBe(
      `{"serial":18446744073709551615,"user_id":"u\\"ser\\né","device_id":"dev/1","public_key":"${B_PUB}","issuer":"${A_PUB}","issued_at":1700000000,"expires_at":1702592000}`,
    );
    expect(message.includes(Buffer.from([0xc3, 0xa9]))).toBe(true); // é as raw UTF-8
    expect(cert04.signature.toString('hex')).toBe(SIGNATURE_04);
  });

  it('TV-CERT-05: verification and its failures', () => {
    expect(verifyCertificate(cert02, A.publicKey)).toBe(true);
    expect(verifyCertificate(cert04, A.publicKey)).toBe(true);
    const flipped = Buffer.from(cert02.signature);
    flipped[10]! ^= 1;
    expect(verifyCertificate({ ...cert02, signature: flipped }, A.publicKey)).toBe(false);
    expect(verifyCertificate(cert02, B.publicKey)).toBe(false);
    expect(verifyCertificate({ ...cert02, serial: cert02.serial + 1n }, A.publicKey)).toBe(false);
    // serial + 1 on u64::MAX leaves the u64 range: still just false.
    expect(verifyCertificate({ ...cert04, serial: cert04.serial + 1n }, A.publicKey)).toBe(false);
    expect(verifyCertificate({ ...cert04, userId: 'u"ser\nè' }, A.publicKey)).toBe(false);
  });

  it('TV-CERT-06: uppercase hex, extra keys and a 20-digit serial parse, and re-signing gives the same bytes', () => {
    const text = certificateToJsonString(cert04, 'sorted')
      .replace(B_PUB, B_PUB.toUpperCase())
      .replace(SIGNATURE_04, SIGNATURE_04.toUpperCase())
      .replace(/^\{/, '{"extra":{"nested":[1,2]},"zz":null,');
    const parsed = certificateFromJson(parseLossless(text));
    expect(parsed.serial).toBe(U64_MAX);
    expect(parsed.publicKey.equals(B.publicKey)).toBe(true);
    expect(verifyCertificate(parsed, A.publicKey)).toBe(true);
    expect(certificateSigningMessage(parsed).equals(certificateSigningMessage(data04))).toBe(true);
    expect(signCertificate(parsed, A.privateKey).signature.toString('hex')).toBe(SIGNATURE_04);
  });

  it('keeps all 20 digits of a u64::MAX serial in every JSON form', () => {
    const json = certificateToJson(cert04);
    expect(json.serial).toBe(U64_MAX);
    expect(certificateToJsonString(cert04, 'declaration')).toContain('"serial":18446744073709551615,');
    expect(certificateToJson(cert02).serial).toBe(42);
    expect(Object.keys(json)).toEqual(['serial', 'user_id', 'device_id', 'public_key', 'issuer', 'issued_at', 'expires_at', 'signature']);
    // Round trip through the object form.
    expect(certificateFromJson(json).serial).toBe(U64_MAX);
    expect(verifyCertificate(certificateFromJson(json), A.publicKey)).toBe(true);
  });

  it('accepts serial as number, bigint or digit string', () => {
    const base = certificateToJson(cert02);
    expect(certificateFromJson({ ...base, serial: 42 }).serial).toBe(42n);
    expect(certificateFromJson({ ...base, serial: 42n }).serial).toBe(42n);
    expect(certificateFromJson({ ...base, serial: '42' }).serial).toBe(42n);
  });

  it.each<[string, (json: Record<string, unknown>) => unknown]>([
    ['not an object', () => 'certificate'],
    ['an array', () => []],
    ['a missing signature', ({ signature: _signature, ...rest }) => rest],
    ['a missing serial', ({ serial: _serial, ...rest }) => rest],
    ['serial above u64', (json) => ({ ...json, serial: '18446744073709551616' })],
    ['serial as an imprecise number', (json) => ({ ...json, serial: 2 ** 64 })],
    ['negative serial', (json) => ({ ...json, serial: -1 })],
    ['serial with leading zero', (json) => ({ ...json, serial: '042' })],
    ['fractional issued_at', (json) => ({ ...json, issued_at: 1.5 })],
    ['issued_at as a string', (json) => ({ ...json, issued_at: '1' })],
    ['short public_key', (json) => ({ ...json, public_key: (json.public_key as string).slice(2) })],
    ['short signature', (json) => ({ ...json, signature: (json.signature as string).slice(2) })],
    ['non-hex issuer', (json) => ({ ...json, issuer: 'x' + (json.issuer as string).slice(1) })],
    ['user_id not a string', (json) => ({ ...json, user_id: 7 })],
    ['lone surrogate in device_id', (json) => ({ ...json, device_id: 'dev\ud800' })],
  ])('rejects %s with InvalidCertificate', (_name, mutate) => {
    expectCryptoError(() => certificateFromJson(mutate(certificateToJson(cert02))), 'InvalidCertificate');
  });

  it('escapes every control character like serde_json', () => {
    const controls = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') + '\u007f\\/';
    const message = certificateSigningMessage({ ...data01, userId: controls }).toString();
    expect(message).toContain(
      '"user_id":"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f' +
        '\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\u007f\\\\/"',
    );
    expect(JSON.parse(message).user_id).toBe(controls);
  });

  it('refuses to serialise a certificate whose signature is not 64 bytes', () => {
    const truncated = { ...cert02, signature: cert02.signature.subarray(0, 63) };
    expectCryptoError(() => certificateToJson(truncated), 'InvalidCertificate');
    expectCryptoError(() => certificateToJsonString(truncated, 'sorted'), 'InvalidCertificate');
    expect(verifyCertificate(truncated, A.publicKey)).toBe(false);
  });

  it('refuses to sign data Rust could not represent', () => {
    expectCryptoError(() => certificateSigningMessage({ ...data01, serial: -1n }), 'InvalidCertificate');
    expectCryptoError(() => certificateSigningMessage({ ...data01, serial: U64_MAX + 1n }), 'InvalidCertificate');
    expectCryptoError(() => certificateSigningMessage({ ...data01, issuer: Buffer.alloc(31) }), 'InvalidCertificate');
    expectCryptoError(() => certificateSigningMessage({ ...data01, expiresAt: 2 ** 60 }), 'InvalidCertificate');
    expectCryptoError(() => certificateSigningMessage({ ...data01, userId: '\udc00' }), 'InvalidCertificate');
  });

  it('signs and verifies a freshly issued certificate with a random serial', () => {
    const ca = DeviceKeyPair.generate();
    const device = DeviceKeyPair.generate();
    const serials = new Set<bigint>();
    for (let i = 0; i < 20; i++) {
      const serial = randomCertificateSerial();
      expect(serial >= 1n && serial <= BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
      serials.add(serial);
    }
    expect(serials.size).toBe(20);
    const now = 1_750_000_000;
    const cert: DeviceCertificate = signCertificate(
      { serial: randomCertificateSerial(), userId: 'u', deviceId: 'd', publicKey: device.publicKey, issuer: ca.publicKey, issuedAt: now, expiresAt: now + 2_592_000 },
      ca.privateKey,
    );
    expect(verifyCertificate(cert, ca.publicKey)).toBe(true);
    expect(verifyCertificate(certificateFromJson(JSON.parse(certificateToJsonString(cert, 'sorted'))), ca.publicKey)).toBe(true);
  });
});
