import {
  blake3,
  bytesToHex,
  DeviceKeyPair,
  ed25519PublicKey,
  ed25519SecretScalar,
  ed25519Sign,
  ed25519Verify,
  EventSigner,
  hexToBytes,
  x25519PublicKey,
} from '@commucat/crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { expectCryptoError } from './support/expect-crypto-error';

const hex = (value: string) => Buffer.from(value, 'hex');
const range = (start: number, end: number) => Buffer.from(Array.from({ length: end - start }, (_, i) => start + i));


const A = DeviceKeyPair.fromSeed(Buffer.from('seed-seed-seed-seed-seed-seed-seed-seed'));

describe('device keys (§5.1, §9.2)', () => {
  it('TV-CRYPTO-01', () => {
    expect(A.privateKey.toString('hex')).toBe('c926cf5b192545bf31e2e27fe648163774cfcb03730d99492683cd849f87a96a');
    expect(A.publicKey.toString('hex')).toBe('244cb75cb1c0d93df56dad7477c082354d40d13afe48509ddaa5cfa79134550d');
  });

  it('TV-CRYPTO-02', () => {
    const keys = DeviceKeyPair.fromSeed(range(0, 32));
    expect(keys.privateKey.toString('hex')).toBe('e528e95798037df410543d9f31e396ecdd458d71b157d6014398bae32fb56c65');
    expect(keys.publicKey.toString('hex')).toBe('54f14bf7aef111be9f9b225b2bb30c988c64493047a3bf0ad9e49bf434b637a1');
  });

  it('TV-CRYPTO-03: a 31-byte seed is InvalidKey', () => {
    expectCryptoError(() => DeviceKeyPair.fromSeed(Buffer.alloc(31)), 'InvalidKey');
  });

  it('TV-CRYPTO-04: the Ed25519 secret scalar', () => {
    expect(ed25519SecretScalar(A.privateKey).toString('hex')).toBe('251e7f4a99aa51bb2b6736a952b9bbe66d3361a4c9739e58638bcc4de1bd8b01');
  });

  it('TV-CRYPTO-05/06: X25519 public keys (clamped scalar × 9)', () => {
    expect(x25519PublicKey(A.privateKey).toString('hex')).toBe('0d474a0c095793efebcb2c7b786dfbead98faa2a5a6af49aba8d9425c28e201d');
    expect(x25519PublicKey(Buffer.alloc(32, 0x11)).toString('hex')).toBe('7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13');
    expectCryptoError(() => x25519PublicKey(Buffer.alloc(33)), 'InvalidKey');
  });

  it('TV-CRYPTO-07: the sample federation seed gives the CA key', () => {
    const ca = DeviceKeyPair.fromSeed(Buffer.concat([range(0x20, 0x30), range(0x20, 0x30)]));
    expect(ca.privateKey.toString('hex')).toBe('af27a91901dad2643dcd4743d79251d4a206e0a7884d18d88af03c13fde9d961');
    expect(ca.publicKey.toString('hex')).toBe('9719e690a626f3acdf4894922f245008e0345d1e152abe205a5e49f1f77fcbe2');
  });

  it('secret scalar times B is the public key, checked with noble', () => {
    for (let i = 0; i < 5; i++) {
      const keys = DeviceKeyPair.generate();
      const scalar = BigInt('0x' + Buffer.from(ed25519SecretScalar(keys.privateKey)).reverse().toString('hex'));
      expect(Buffer.from(ed25519.Point.BASE.multiply(scalar).toBytes()).equals(keys.publicKey)).toBe(true);
      expect(ed25519PublicKey(keys.privateKey).equals(keys.publicKey)).toBe(true);
    }
  });

  it('seeds longer than 32 bytes are hashed whole', () => {
    const seed = range(0, 64);
    expect(DeviceKeyPair.fromSeed(seed).privateKey.equals(blake3(seed))).toBe(true);
    expect(DeviceKeyPair.fromSeed(seed).privateKey.equals(DeviceKeyPair.fromSeed(seed.subarray(0, 63)).privateKey)).toBe(false);
  });
});

describe('blake3', () => {
  it('matches the official empty-input digest and extends as an XOF', () => {
    expect(blake3(Buffer.alloc(0)).toString('hex')).toBe('af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
    const long = blake3(Buffer.from('abc'), 64);
    expect(long.length).toBe(64);
    expect(long.subarray(0, 32).equals(blake3(Buffer.from('abc')))).toBe(true);
  });
});

describe('Ed25519', () => {
  it('signs as RFC 8032 test 1 and verifies', () => {
    const secret = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    const publicKey = ed25519PublicKey(secret);
    expect(publicKey.toString('hex')).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const signature = ed25519Sign(secret, Buffer.alloc(0));
    expect(signature.toString('hex')).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    expect(ed25519Verify(publicKey, Buffer.alloc(0), signature)).toBe(true);
    expect(ed25519Verify(publicKey, Buffer.from([0]), signature)).toBe(false);
  });

  it('returns false instead of throwing on malformed input', () => {
    const signature = ed25519Sign(A.privateKey, Buffer.from('m'));
    expect(ed25519Verify(A.publicKey, Buffer.from('m'), signature)).toBe(true);
    expect(ed25519Verify(A.publicKey.subarray(0, 31), Buffer.from('m'), signature)).toBe(false);
    expect(ed25519Verify(A.publicKey, Buffer.from('m'), signature.subarray(0, 63))).toBe(false);
    expect(ed25519Verify(Buffer.alloc(32, 0xff), Buffer.from('m'), signature)).toBe(false);
    const highS = Buffer.from(signature);
    highS[63] = 0xff; // s ≥ L
    expect(ed25519Verify(A.publicKey, Buffer.from('m'), highS)).toBe(false);
  });

  it('re-imports a signing key whose buffer was overwritten', () => {
    const secret = Buffer.from(A.privateKey);
    const first = ed25519Sign(secret, Buffer.from('x'));
    const other = DeviceKeyPair.generate();
    other.privateKey.copy(secret);
    const second = ed25519Sign(secret, Buffer.from('x'));
    expect(first.equals(second)).toBe(false);
    expect(ed25519Verify(other.publicKey, Buffer.from('x'), second)).toBe(true);
  });

  it('EventSigner signs with the device key', () => {
    const signer = new EventSigner(A);
    expect(signer.publicKey.equals(A.publicKey)).toBe(true);
    const signature = signer.sign(Buffer.from('event'));
    expect(signature.equals(ed25519Sign(A.privateKey, Buffer.from('event')))).toBe(true);
    expect(ed25519Verify(A.publicKey, Buffer.from('event'), signature)).toBe(true);
  });
});

describe('hex', () => {
  it('decodes either case and encodes lowercase', () => {
    expect(hexToBytes('00aBcDeF').toString('hex')).toBe('00abcdef');
    expect(bytesToHex(Buffer.from([0xab, 0x01]))).toBe('ab01');
    expect(bytesToHex(new Uint8Array([1, 2, 3]).subarray(1))).toBe('0203');
  });

  it.each(['0', 'zz', '0g', ' 00', '00 '])('rejects %p', (value) => {
    expectCryptoError(() => hexToBytes(value), 'InvalidHex');
  });

  it('enforces the expected length', () => {
    expect(hexToBytes('ab'.repeat(32), 32).length).toBe(32);
    expectCryptoError(() => hexToBytes('ab'.repeat(31), 32), 'InvalidHex');
    expectCryptoError(() => hexToBytes('ab'.repeat(33), 32), 'InvalidHex');
  });
});
